"""Compute proxy scores from array files and store them as SCORED edges.

`score_pair` scores one (model, dataset) pair from its feature, label and source-probability
files; `score_folder` does the same for a folder laid out as

    FOLDER/<dataset>/labels.npy                 target labels, one per sample
    FOLDER/<dataset>/<model>.features.npy       penultimate features, (samples, dim)
    FOLDER/<dataset>/<model>.probs.npy          source softmax outputs (LEEP, NCE), optional

(a model name with "/" is a subfolder: `google/vit-b16.features.npy`). Every file is
checked before anything is computed (shapes read from the .npy headers, without loading
the data), every score is computed before anything is written, and the write replaces a
metric's earlier value for the pair: a mistake anywhere stops the run with the file named,
and the graph is left as it was.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import queries
from ..errors import UsageError
from ..ingest import IngestSummary, ingest
from ..loaders.zoodata import ZooData
from ..names import close_names, name_problem, shown_name
from ..store import Store

FEATURES_SUFFIX = ".features.npy"
PROBS_SUFFIX = ".probs.npy"
LABELS_FILE = "labels.npy"


@dataclass(frozen=True)
class PairFiles:
    """The arrays one (model, dataset) pair is scored from."""

    model: str
    dataset: str
    labels: Path
    features: Path | None = None
    source_probs: Path | None = None


@dataclass
class ScoreReport:
    """What a scoring run computed and wrote."""

    scores: list[dict[str, Any]] = field(default_factory=list)  # model, dataset, metric, value
    written: IngestSummary | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        counts = self.written.scores if self.written else None
        return {"scores": self.scores, "seconds": round(self.seconds, 3),
                "created": counts.created if counts else 0,
                "updated": counts.updated if counts else 0,
                "unchanged": counts.unchanged if counts else 0,
                "datasets_added": self.written.datasets.created if self.written else 0}


def parse_metrics(text: str | Sequence[str] | None) -> list[str] | None:
    """`--metrics logme,leep` as a checked list (None: every metric the inputs allow)."""
    from . import known_metrics

    if text is None:
        return None
    names = [m.strip().lower() for m in (text.split(",") if isinstance(text, str) else text)]
    return known_metrics(m for m in names if m)


#: How every .npy file begins; anything else is another kind of file.
NPY_MAGIC = b"\x93NUMPY"
_SAVE_HINT = "save the array with numpy.save(path, array)"


def load_npy(path: str | Path, what: str, *, header_only: bool = False) -> np.ndarray:
    """The array in a .npy file, or a clear error naming the file; `header_only` maps it
    instead of reading it, for its shape and dtype. Never unpickles: a file that is not a
    .npy array of plain values (a .npz archive, a pickle, text) is refused by its kind."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{what} {path}: " + ("a folder, not a .npy file" if path.is_dir()
                                               else "no such file"))
    try:
        with path.open("rb") as fh:
            head = fh.read(len(NPY_MAGIC))
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it ({exc.strerror})") from None
    if head != NPY_MAGIC:
        raise UsageError(f"{what} {path}: not a .npy array file: {_not_npy(path, head)}")
    try:
        return np.load(path, mmap_mode="r" if header_only else None, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Python objects" in str(exc):  # dtype object
            raise UsageError(f"{what} {path}: holds Python objects (dtype object), which "
                             "graphrec does not unpickle; save numbers (or strings, for "
                             "labels) instead, e.g. numpy.save(path, array.astype(float))"
                             ) from None
        raise UsageError(f"{what} {path}: not a readable .npy array ({exc}); the file may "
                         f"be truncated: {_SAVE_HINT}") from None
    except (OSError, EOFError) as exc:
        raise UsageError(f"{what} {path}: not a readable .npy array ({exc}); the file may "
                         f"be truncated: {_SAVE_HINT}") from None


def _not_npy(path: Path, head: bytes) -> str:
    """What a file that is not .npy seems to be, and how to make the .npy file."""
    if not head:
        return f"it is empty; {_SAVE_HINT}"
    if head.startswith(b"PK"):  # a zip file: numpy.savez and torch.save write these
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            names = []
        arrays = [n.removesuffix(".npy") for n in names if n.endswith(".npy")]
        if arrays and len(arrays) == len(names):
            return (f"it is a .npz archive holding {', '.join(arrays[:5])}; save the one "
                    f"array as .npy, e.g. numpy.save(path, numpy.load({path.name!r})"
                    f"[{arrays[0]!r}])")
        return f"it is a zip archive (torch.save writes these), not an array; {_SAVE_HINT}"
    if head[:1] == b"\x80":
        return (f"it is a Python pickle (pickle.dump, or an old torch.save), which graphrec "
                f"does not load; {_SAVE_HINT}")
    try:
        head.decode("ascii")
    except UnicodeDecodeError:
        return f"it is another kind of binary file; {_SAVE_HINT}"
    return ("it holds text; read the text into an array (numpy.loadtxt for CSV) and "
            f"{_SAVE_HINT}")


def _check_files(pair: PairFiles, metrics: list[str] | None) -> None:
    """Shapes agree and each requested metric has its input, before any data is read."""
    from . import NEEDS_SOURCE_PROBS

    labels = load_npy(pair.labels, "labels", header_only=True)
    n = labels.shape[0] if labels.ndim else 0
    for path, what in ((pair.features, "features"), (pair.source_probs, "source probs")):
        if path is None:
            continue
        arr = load_npy(path, what, header_only=True)
        if arr.ndim != 2:
            raise UsageError(f"{what} {path}: expected a 2-D array (samples x columns), got "
                             f"shape {arr.shape}")
        if arr.shape[0] != n:
            raise UsageError(f"{what} {path} has {arr.shape[0]} rows but labels "
                             f"{pair.labels} has {n} entries; both need one per sample, in "
                             "the same order")
    for metric in metrics or ():
        needs_probs = metric in NEEDS_SOURCE_PROBS
        if needs_probs and pair.source_probs is None:
            raise UsageError(f"{metric} for {pair.model} on {pair.dataset} needs the source "
                             "model's softmax outputs (--source-probs, or "
                             f"<model>{PROBS_SUFFIX} in a folder)")
        if not needs_probs and pair.features is None:
            raise UsageError(f"{metric} for {pair.model} on {pair.dataset} needs features "
                             f"(--features, or <model>{FEATURES_SUFFIX} in a folder)")


def check_models(store: Store, names: Iterable[str]) -> None:
    """Scores attach to models already in the graph: a typo must not create a new one."""
    have = {r["name"] for r in store.run(queries.get("predict/read-models").text,
                                         {"skip": 0, "limit": 1 << 30})}
    for name in dict.fromkeys(names):
        if name not in have:
            close = close_names(name, sorted(have))
            hint = f" Close names: {', '.join(close)}." if close else ""
            raise UsageError(f"no model named {name!r} in the graph.{hint} Ingest the model "
                             "first (graphrec ingest ... --models models.csv), then score it")


def compute_pairs(pairs: Sequence[PairFiles], metrics: list[str] | None = None,
                  progress: bool = False) -> list[dict[str, Any]]:
    """Every requested score of every pair, as rows {model, dataset, metric, value}."""
    from tqdm import tqdm

    from . import compute

    for pair in pairs:
        _check_files(pair, metrics)
    rows: list[dict[str, Any]] = []
    for pair in tqdm(pairs, desc="score", unit="pair", disable=not progress, leave=False):
        labels = load_npy(pair.labels, "labels")
        features = load_npy(pair.features, "features") if pair.features else None
        probs = load_npy(pair.source_probs, "source probs") if pair.source_probs else None
        try:
            values = compute(features, labels, source_probs=probs, metrics=metrics)
        except UsageError as exc:
            files = ", ".join(f"{what} {path}" for what, path in (
                ("features", pair.features), ("source probs", pair.source_probs),
                ("labels", pair.labels)) if path is not None)
            raise UsageError(f"{pair.model} on {pair.dataset} ({files}): {exc}") from None
        rows.extend({"model": pair.model, "dataset": pair.dataset, "metric": metric,
                     "value": float(value)} for metric, value in values.items())
    return rows


def store_scores(store: Store, rows: Sequence[dict[str, Any]]) -> IngestSummary:
    """Write score rows as SCORED edges (a metric's new value replaces its old one). The
    callers have checked the models first (`check_models`), before computing anything."""
    zoo = ZooData(scores={(r["model"], r["dataset"], r["metric"]): r["value"] for r in rows})
    return ingest(store, zoo)


def find_pairs(folder: Path) -> list[PairFiles]:
    """The pairs of a score folder (see the module docstring), sorted by dataset, model."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder; a score folder holds one subfolder per "
                         f"dataset with {LABELS_FILE} and <model>{FEATURES_SUFFIX} files")
    if (folder / LABELS_FILE).is_file():
        raise UsageError(f"{folder} holds {LABELS_FILE} itself, so it is one dataset's "
                         f"folder: give its parent ({folder.parent}), whose subfolders are "
                         "named by dataset")
    pairs: list[PairFiles] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        labels = sub / LABELS_FILE
        if not labels.is_file() and any(sub.glob(f"*/{LABELS_FILE}")):
            raise UsageError(f"{folder}: its subfolder {sub.name} holds dataset folders; "
                             f"give {sub} as the score folder")
        found: dict[str, dict[str, Path]] = {}
        for path in sorted(sub.rglob("*.npy")):
            rel = path.relative_to(sub).as_posix()
            for suffix, key in ((FEATURES_SUFFIX, "features"), (PROBS_SUFFIX, "probs")):
                if rel.endswith(suffix):
                    found.setdefault(rel[: -len(suffix)], {})[key] = path
        if not found:
            continue
        if not labels.is_file():
            raise UsageError(f"{sub}: has model files but no {LABELS_FILE}; save the "
                             "dataset's labels there (one per sample, the samples in the "
                             "order of the feature rows)")
        pairs.extend(PairFiles(model, sub.name, labels, files.get("features"),
                               files.get("probs")) for model, files in sorted(found.items()))
    if not pairs:
        raise UsageError(f"{folder}: no <dataset>/<model>{FEATURES_SUFFIX} or "
                         f"<dataset>/<model>{PROBS_SUFFIX} files found")
    for pair in pairs:  # names come from the files' names: they must be names as stored
        for kind, name in (("dataset", pair.dataset), ("model", pair.model)):
            problem = name_problem(name)
            if problem:
                raise UsageError(f"{folder / pair.dataset}: {kind} {shown_name(name)} (from "
                                 f"a file name): {problem}; rename the file or folder")
    return pairs


def score_pairs(store: Store, pairs: Sequence[PairFiles], metrics: list[str] | None = None,
                progress: bool = False) -> ScoreReport:
    """Check, compute, then write: the graph changes only if every pair scores."""
    started = time.perf_counter()
    check_models(store, (p.model for p in pairs))
    rows = compute_pairs(pairs, metrics, progress)
    written = store_scores(store, rows)
    return ScoreReport(rows, written, time.perf_counter() - started)
