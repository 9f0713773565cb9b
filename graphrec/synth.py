"""Synthetic model-zoo fine-tuning history.

Real transferability histories (which pre-trained model reached what accuracy after
fine-tuning on which dataset) are scarce and awkward to ship, so tests, the demo and the
scale benchmarks use a generated one instead.  The generator plants structure a learner can
recover (family strength, family x domain affinity, task difficulty from the number of
classes and samples per class, overlapping label sets) under noise, and it scales to
millions of observed pairs without ever materialising the full models x datasets matrix
when that would be large.

Three CSV files are written (UTF-8, header row, ``\\n`` line endings):

``models.csv``
    ``name,family,params,gflops,top1,input_size,pretrain_dataset``
``datasets.csv``
    ``name,domain,num_classes,samples_per_class,train_size,labels`` (labels ``;``-separated)
``records.csv``
    ``model,dataset,accuracy,run``, sorted by dataset index, then model index, then run.
``scores.csv`` (only with ``score_noise``)
    a wide matrix of a synthetic proxy score (metric ``synthetic``) for every pair, observed
    or not: ``model,<dataset>,<dataset>,...``, one row per model. Like LogME, it follows
    the pair's true transferability up to noise, on a scale of its own per dataset.

The same arguments and seed always produce byte-identical files.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .checks import check_between, check_integer, check_number

__all__ = [
    "DOMAINS",
    "FAMILIES",
    "LABEL_VOCABULARY",
    "NUM_CLASSES_CHOICES",
    "PRETRAIN_DATASETS",
    "SAMPLES_PER_CLASS_CHOICES",
    "SynthSummary",
    "generate_zoo",
]

FAMILIES: tuple[str, ...] = (
    "resnet",
    "vit",
    "convnext",
    "efficientnet",
    "mobilenet",
    "densenet",
    "swin",
    "regnet",
)
DOMAINS: tuple[str, ...] = ("painting", "infograph", "quickdraw", "real", "sketch", "clipart")
NUM_CLASSES_CHOICES: tuple[int, ...] = (2, 4, 8, 16, 32)
SAMPLES_PER_CLASS_CHOICES: tuple[int, ...] = (10, 30, 50)
INPUT_SIZES: tuple[int, ...] = (224, 256, 384)
PRETRAIN_DATASETS: tuple[str, ...] = ("ImageNet-1K", "ImageNet-21K", "LAION-2B")

# A shared vocabulary, so that label sets of different datasets overlap (a signal a
# recommender can use to relate datasets).  Must hold at least max(NUM_CLASSES_CHOICES).
LABEL_VOCABULARY: tuple[str, ...] = (
    "airplane", "alarm_clock", "apple", "backpack", "banana", "bear", "bee", "bicycle",
    "bird", "book", "bottle", "bread", "bridge", "bus", "butterfly", "cactus", "cake",
    "camel", "camera", "car", "castle", "cat", "chair", "clock", "cloud", "cow", "crab",
    "cup", "dog", "dolphin", "door", "dragon", "duck", "elephant", "eye", "fish", "flower",
    "fork", "frog", "giraffe", "guitar", "hammer", "hat", "horse", "house", "key", "lamp",
    "lion", "monkey", "moon", "mountain", "mushroom", "owl", "penguin", "piano", "pizza",
    "rabbit", "sailboat", "shark", "snake", "star", "strawberry", "sun", "table", "tiger",
    "train", "tree", "truck", "umbrella", "zebra",
)  # fmt: skip

# Latent-model constants.  Chosen so accuracies spread over roughly 0.3..0.99 with clear
# (but not overwhelming) dependence on metadata.
_BASE_LOGIT = 2.2
_FAMILY_STRENGTH_SD = 0.6
_MODEL_STRENGTH_SD = 0.3
_AFFINITY_SD = 0.5
_DOMAIN_OFFSET = {  # some domains are intrinsically harder to transfer to
    "painting": -0.1,
    "infograph": -0.5,
    "quickdraw": -0.7,
    "real": 0.5,
    "sketch": -0.3,
    "clipart": 0.0,
}
_PRETRAIN_BONUS = (0.0, 0.15, 0.25)  # aligned with PRETRAIN_DATASETS
_CLASS_DIFFICULTY = 0.4  # per doubling of num_classes
_SAMPLE_EASE = 0.5  # per e-fold increase of samples_per_class over 10
_DATASET_OFFSET_SD = 0.3
_PAIR_NOISE_SD = 0.15
_RUN_NOISE_SD = 0.05
_SCORE_SCALE = 0.5  # synthetic score per unit of pair logit
_MAX_SCORE_CELLS = 20_000_000  # scores.csv is dense: models x datasets cells
_ACC_MIN, _ACC_MAX = 0.01, 0.999

# Bernoulli-mask sampling cost is O(models * datasets); below this density the
# sample-and-deduplicate path (cost O(records)) is used instead.
_MASK_MIN_DENSITY = 0.05
_MASK_CHUNK_CELLS = 1 << 22  # float32 cells per mask chunk: 16 MiB
_WRITE_CHUNK_ROWS = 100_000
_LABEL_CHUNK_ROWS = 16_384


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`generate_zoo` wrote, so callers can load the files without guessing names."""

    models: int
    datasets: int
    records: int
    out_dir: Path
    files: dict[str, Path]  # {"records": ..., "models": ..., "datasets": ...}


def _atomic_path(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _sample_pairs_mask(
    rng: np.random.Generator, models: int, datasets: int, density: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bernoulli(density) per cell, chunked over datasets so memory stays bounded."""
    rows_per_chunk = max(1, _MASK_CHUNK_CELLS // models)
    d_parts: list[np.ndarray] = []
    m_parts: list[np.ndarray] = []
    threshold = np.float32(density)
    for start in range(0, datasets, rows_per_chunk):
        rows = min(rows_per_chunk, datasets - start)
        if density >= 1.0:
            mask = np.ones((rows, models), dtype=bool)
        else:
            mask = rng.random((rows, models), dtype=np.float32) < threshold
        d_local, m_local = np.nonzero(mask)  # row-major: sorted by dataset, then model
        d_parts.append((d_local + start).astype(np.int64))
        m_parts.append(m_local.astype(np.int64))
    return np.concatenate(d_parts), np.concatenate(m_parts)


def _sample_pairs_sparse(
    rng: np.random.Generator, models: int, datasets: int, density: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per dataset k ~ Binomial(models, density) distinct models, without an M x D matrix.

    Draws with replacement, deduplicates, and redraws only the shortfall.  Because the
    process is symmetric in the model labels, each dataset's k-subset is uniform, so the
    result has the same distribution as a per-cell Bernoulli mask.  Collisions are rare at
    low density, so a handful of rounds suffice.
    """
    want = rng.binomial(models, density, size=datasets).astype(np.int64)
    dataset_ids = np.arange(datasets, dtype=np.int64)
    keys = np.empty(0, dtype=np.int64)
    deficit = want
    while True:
        total = int(deficit.sum())
        if total == 0:
            break
        d_new = np.repeat(dataset_ids, deficit)
        m_new = rng.integers(0, models, size=total, dtype=np.int64)
        keys = np.sort(np.concatenate([keys, d_new * models + m_new]))
        if len(keys) > 1:
            keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]  # sorted, unique
        have = np.bincount(keys // models, minlength=datasets)
        deficit = want - have
    return keys // models, keys % models


def _sample_pairs(
    rng: np.random.Generator, models: int, datasets: int, density: float
) -> tuple[np.ndarray, np.ndarray]:
    if density >= _MASK_MIN_DENSITY:
        return _sample_pairs_mask(rng, models, datasets, density)
    return _sample_pairs_sparse(rng, models, datasets, density)


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    tmp = _atomic_path(path)
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(tmp, path)


def _write_score_matrix(path: Path, models: list[str], datasets: list[str],
                        score: np.ndarray, progress: bool) -> None:
    """`score` (datasets x models) as a models x datasets CSV, one model per row."""
    tmp = _atomic_path(path)
    with (tmp.open("w", encoding="utf-8", newline="") as fh,
          tqdm(total=len(models), unit="models", desc="scores.csv", disable=not progress) as bar):
        fh.write(",".join(["model", *datasets]) + "\n")
        for m, name in enumerate(models):
            fh.write(name + "," + ",".join(f"{v:.4f}" for v in score[:, m].tolist()) + "\n")
            bar.update(1)
    os.replace(tmp, path)


def _model_table(
    rng: np.random.Generator, models: int
) -> tuple[list[str], np.ndarray, np.ndarray, list[list[object]]]:
    """Model names, family index, latent strength, and the models.csv rows."""
    n_fam = min(len(FAMILIES), models)
    # Every family gets at least one model; the assignment order is shuffled.
    family = rng.permutation(np.arange(models) % n_fam)

    fam_strength = rng.normal(0.0, _FAMILY_STRENGTH_SD, size=n_fam)
    indiv_strength = rng.normal(0.0, _MODEL_STRENGTH_SD, size=models)

    lo, hi = math.log(3e6), math.log(3e8)
    fam_log_params = rng.uniform(lo + 0.5, hi - 0.5, size=n_fam)
    log_params = np.clip(fam_log_params[family] + rng.normal(0.0, 0.5, size=models), lo, hi)
    params = np.rint(np.exp(log_params)).astype(np.int64)

    input_size = rng.choice(np.array(INPUT_SIZES), size=models, p=[0.6, 0.25, 0.15])
    pretrain = rng.choice(len(PRETRAIN_DATASETS), size=models, p=[0.5, 0.35, 0.15])
    flops_per_param = rng.uniform(40.0, 250.0, size=models)  # FLOPs per parameter, 224 px
    gflops = params * flops_per_param * (input_size / 224.0) ** 2 / 1e9

    # Bigger models and bigger pre-training sets help a little, on top of the latent.
    size_effect = 0.15 * (log_params - (lo + hi) / 2) / ((hi - lo) / 2)
    strength = (
        fam_strength[family] + indiv_strength + size_effect + np.asarray(_PRETRAIN_BONUS)[pretrain]
    )
    top1 = np.clip(0.79 + 0.06 * strength + rng.normal(0.0, 0.01, size=models), 0.70, 0.88)

    width = max(3, len(str(models - 1)))
    names = [f"{FAMILIES[f]}_{i:0{width}d}" for i, f in enumerate(family.tolist())]
    rows: list[list[object]] = [
        [
            names[i],
            FAMILIES[family[i]],
            int(params[i]),
            f"{gflops[i]:.3f}",
            f"{top1[i]:.4f}",
            int(input_size[i]),
            PRETRAIN_DATASETS[pretrain[i]],
        ]
        for i in range(models)
    ]
    return names, family, strength, rows


def _label_lists(rng: np.random.Generator, num_classes: np.ndarray) -> list[str]:
    """Distinct labels per dataset from the shared vocabulary, vectorised in chunks.

    Each row draws one uniform key per vocabulary word and keeps the ``k`` smallest, which
    is a uniform ``k``-subset; keeping vocabulary order makes the output canonical.
    """
    vocab = np.array(LABEL_VOCABULARY)
    out: list[str] = []
    n = len(num_classes)
    for start in range(0, n, _LABEL_CHUNK_ROWS):
        stop = min(n, start + _LABEL_CHUNK_ROWS)
        k = num_classes[start:stop]
        keys = rng.random((stop - start, len(vocab)))
        kth = np.sort(keys, axis=1)[np.arange(stop - start), k - 1]
        chosen = keys <= kth[:, None]  # keys are distinct with probability 1
        flat = vocab[np.nonzero(chosen)[1]].tolist()  # row-major: grouped by dataset
        bounds = np.concatenate([[0], np.cumsum(chosen.sum(axis=1))]).tolist()
        out.extend(";".join(flat[a:b]) for a, b in pairwise(bounds))
    return out


def _dataset_table(
    rng: np.random.Generator, datasets: int
) -> tuple[list[str], np.ndarray, np.ndarray, list[list[object]]]:
    """Dataset names, domain index, latent difficulty offset, and the datasets.csv rows."""
    domain = rng.integers(0, len(DOMAINS), size=datasets)
    num_classes = rng.choice(np.array(NUM_CLASSES_CHOICES), size=datasets)
    spc = rng.choice(np.array(SAMPLES_PER_CLASS_CHOICES), size=datasets)
    labels = _label_lists(rng, num_classes)

    domain_offset = np.array([_DOMAIN_OFFSET[d] for d in DOMAINS])
    offset = (
        domain_offset[domain]
        - _CLASS_DIFFICULTY * np.log2(num_classes)
        + _SAMPLE_EASE * np.log(spc / 10.0)
        + rng.normal(0.0, _DATASET_OFFSET_SD, size=datasets)
    )

    width = max(6, len(str(datasets - 1)))
    dom_names = [DOMAINS[d] for d in domain.tolist()]
    names = [f"ds_{i:0{width}d}_{dom}" for i, dom in enumerate(dom_names)]
    nc, sp = num_classes.tolist(), spc.tolist()
    rows: list[list[object]] = [
        [names[i], dom_names[i], nc[i], sp[i], nc[i] * sp[i], labels[i]] for i in range(datasets)
    ]
    return names, domain, offset, rows


def generate_zoo(
    models: int,
    datasets: int,
    density: float,
    seed: int,
    out_dir: str | Path,
    *,
    runs: int = 1,
    progress: bool = False,
    pair_sd: float = _PAIR_NOISE_SD,
    score_noise: float | None = None,
) -> SynthSummary:
    """Write a synthetic fine-tuning history to ``out_dir`` and describe what was written.

    ``density`` is the expected fraction of all model x dataset pairs that are observed;
    each observed pair gets ``runs`` rows (independent run noise on a shared pair effect),
    mimicking repeated fine-tuning with different seeds.  Every model and dataset is listed
    in the metadata files even when it has no records.  Deterministic in all arguments.

    ``pair_sd`` is the spread of the pair effect that no metadata explains (how much a
    model's transfer to a dataset departs from what its family and the dataset's domain
    predict). ``score_noise`` (an SD on the logit scale) also writes ``scores.csv``: a proxy
    score for every pair that sees that pair effect through noise, as LogME or LEEP see it
    through a forward pass; the files without it are unchanged.
    """
    models = check_integer("models", models, 1)
    datasets = check_integer("datasets", datasets, 1)
    density = check_between("density", density, 0, 1, closed="right")
    runs = check_integer("runs", runs, 1)
    seed = check_integer("seed", seed, 0)
    for what, value in (("pair_sd", pair_sd), ("score_noise", score_noise)):
        if value is not None:
            check_number(what, value, 0)
    if score_noise is not None and models * datasets > _MAX_SCORE_CELLS:
        raise ValueError(f"scores.csv holds every pair: {models} x {datasets} is over "
                         f"{_MAX_SCORE_CELLS:,} cells; use fewer models or datasets for a "
                         "zoo with scores")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "records": out / "records.csv",
        "models": out / "models.csv",
        "datasets": out / "datasets.csv",
    }

    rng = np.random.default_rng(seed)
    model_names, family, strength, model_rows = _model_table(rng, models)
    dataset_names, domain, ds_offset, dataset_rows = _dataset_table(rng, datasets)
    affinity = rng.normal(0.0, _AFFINITY_SD, size=(int(family.max()) + 1, len(DOMAINS)))

    _write_csv(
        files["models"],
        ["name", "family", "params", "gflops", "top1", "input_size", "pretrain_dataset"],
        model_rows,
    )
    del model_rows
    _write_csv(
        files["datasets"],
        ["name", "domain", "num_classes", "samples_per_class", "train_size", "labels"],
        dataset_rows,
    )
    del dataset_rows

    d_idx, m_idx = _sample_pairs(rng, models, datasets, density)
    n_pairs = len(d_idx)
    if score_noise is None:
        pair_effect = rng.normal(0.0, pair_sd, size=n_pairs)
    else:
        # Scores cover every pair, so every pair's effect is drawn (from its own stream).
        score_rng = np.random.default_rng([seed, 1])
        effect_all = score_rng.normal(0.0, pair_sd, size=(datasets, models))
        pair_effect = effect_all[d_idx, m_idx]
        logit_all = (_BASE_LOGIT + strength[None, :] + affinity[family[None, :], domain[:, None]]
                     + ds_offset[:, None] + effect_all)
        del effect_all
        shift = score_rng.normal(0.0, 1.0, size=(datasets, 1))
        score = (_SCORE_SCALE * (logit_all + score_rng.normal(0.0, score_noise,
                                                               size=logit_all.shape)) + shift)
        del logit_all
        files["scores"] = out / "scores.csv"
        _write_score_matrix(files["scores"], model_names, dataset_names, score, progress)
        del score
    pair_logit = (
        _BASE_LOGIT
        + strength[m_idx]
        + affinity[family[m_idx], domain[d_idx]]
        + ds_offset[d_idx]
        + pair_effect
    )
    if runs > 1:
        d_idx = np.repeat(d_idx, runs)
        m_idx = np.repeat(m_idx, runs)
        pair_logit = np.repeat(pair_logit, runs)
    run_idx = np.tile(np.arange(runs, dtype=np.int64), n_pairs)
    logit = pair_logit + rng.normal(0.0, _RUN_NOISE_SD, size=len(pair_logit))
    del pair_logit
    accuracy = np.clip(1.0 / (1.0 + np.exp(-logit)), _ACC_MIN, _ACC_MAX)
    del logit

    n_rows = len(accuracy)
    tmp = _atomic_path(files["records"])
    with (
        tmp.open("w", encoding="utf-8", newline="") as fh,
        tqdm(total=n_rows, unit="rows", desc="records.csv", disable=not progress) as bar,
    ):
        fh.write("model,dataset,accuracy,run\n")
        for start in range(0, n_rows, _WRITE_CHUNK_ROWS):
            stop = min(n_rows, start + _WRITE_CHUNK_ROWS)
            lines = [
                f"{model_names[m]},{dataset_names[d]},{a:.4f},{r}\n"
                for m, d, a, r in zip(
                    m_idx[start:stop].tolist(),
                    d_idx[start:stop].tolist(),
                    accuracy[start:stop].tolist(),
                    run_idx[start:stop].tolist(),
                    strict=True,
                )
            ]
            fh.write("".join(lines))
            bar.update(stop - start)
    os.replace(tmp, files["records"])

    return SynthSummary(models=models, datasets=datasets, records=n_rows, out_dir=out, files=files)
