"""Tests for the synthetic model-zoo generator, on real files written to tmp_path."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

import pytest

from graphrec.synth import (
    DOMAINS,
    FAMILIES,
    LABEL_VOCABULARY,
    NUM_CLASSES_CHOICES,
    PRETRAIN_DATASETS,
    SAMPLES_PER_CLASS_CHOICES,
    SynthSummary,
    generate_zoo,
)

MODEL_COLUMNS = ["name", "family", "params", "gflops", "top1", "input_size", "pretrain_dataset"]
DATASET_COLUMNS = ["name", "domain", "num_classes", "samples_per_class", "train_size", "labels"]
RECORD_COLUMNS = ["model", "dataset", "accuracy", "run"]


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def file_bytes(summary: SynthSummary) -> dict[str, bytes]:
    return {key: path.read_bytes() for key, path in summary.files.items()}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    """A mid-sized zoo shared by the read-only checks (mask sampling path)."""
    return generate_zoo(200, 300, 0.1, 7, tmp_path_factory.mktemp("zoo"))


@pytest.fixture(scope="module")
def zoo_tables(
    zoo: SynthSummary,
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    _, models = read_csv(zoo.files["models"])
    _, datasets = read_csv(zoo.files["datasets"])
    _, records = read_csv(zoo.files["records"])
    return models, datasets, records


def test_summary_and_files(zoo: SynthSummary) -> None:
    assert isinstance(zoo, SynthSummary)
    assert (zoo.models, zoo.datasets) == (200, 300)
    assert set(zoo.files) == {"records", "models", "datasets"}
    for key, path in zoo.files.items():
        assert path == zoo.out_dir / f"{key}.csv"
        assert path.is_file()
    assert not list(zoo.out_dir.glob("*.tmp"))


def test_columns_and_counts(zoo: SynthSummary, zoo_tables) -> None:
    models, datasets, records = zoo_tables
    assert read_csv(zoo.files["models"])[0] == MODEL_COLUMNS
    assert read_csv(zoo.files["datasets"])[0] == DATASET_COLUMNS
    assert read_csv(zoo.files["records"])[0] == RECORD_COLUMNS
    assert len(models) == 200
    assert len(datasets) == 300
    assert len(records) == zoo.records
    assert len({m["name"] for m in models}) == 200
    assert len({d["name"] for d in datasets}) == 300


def test_model_metadata(zoo_tables) -> None:
    models, _, _ = zoo_tables
    families = Counter(m["family"] for m in models)
    assert set(families) == set(FAMILIES)  # min(8, 200) families, all used
    for m in models:
        assert m["name"].startswith(m["family"] + "_")
        assert 3e6 <= int(m["params"]) <= 3e8
        assert float(m["gflops"]) > 0
        assert 0.0 <= float(m["top1"]) <= 1.0
        assert int(m["input_size"]) in (224, 256, 384)
        assert m["pretrain_dataset"] in PRETRAIN_DATASETS


def test_dataset_metadata(zoo_tables) -> None:
    _, datasets, _ = zoo_tables
    for d in datasets:
        assert d["domain"] in DOMAINS
        assert d["name"].startswith("ds_") and d["name"].endswith("_" + d["domain"])
        nc, spc = int(d["num_classes"]), int(d["samples_per_class"])
        assert nc in NUM_CLASSES_CHOICES
        assert spc in SAMPLES_PER_CLASS_CHOICES
        assert int(d["train_size"]) == nc * spc
        labels = d["labels"].split(";")
        assert len(labels) == nc == len(set(labels))
        assert set(labels) <= set(LABEL_VOCABULARY)
        assert all(label.isascii() and label.replace("_", "").isalpha() for label in labels)


def test_labels_overlap_across_datasets(zoo_tables) -> None:
    _, datasets, _ = zoo_tables
    label_sets = [set(d["labels"].split(";")) for d in datasets]
    overlapping = sum(1 for a, b in pairwise(label_sets) if a & b)
    assert overlapping > len(label_sets) // 4
    usage = Counter(label for s in label_sets for label in s)
    assert max(usage.values()) > 10


def test_records_valid(zoo_tables) -> None:
    models, datasets, records = zoo_tables
    model_names = [m["name"] for m in models]
    dataset_names = [d["name"] for d in datasets]
    model_pos = {n: i for i, n in enumerate(model_names)}
    dataset_pos = {n: i for i, n in enumerate(dataset_names)}
    keys = []
    for r in records:
        assert r["model"] in model_pos
        assert r["dataset"] in dataset_pos
        assert 0.01 <= float(r["accuracy"]) <= 0.999
        assert r["run"] == "0"
        keys.append((dataset_pos[r["dataset"]], model_pos[r["model"]]))
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_density_roughly_respected(zoo: SynthSummary) -> None:
    assert abs(zoo.records - 6000) <= 0.15 * 6000


def test_sparse_density_path(tmp_path: Path) -> None:
    """Low densities use sample-and-deduplicate; it must still give distinct sorted pairs."""
    summary = generate_zoo(500, 2000, 0.01, 3, tmp_path)
    assert abs(summary.records - 10_000) <= 0.15 * 10_000
    _, models = read_csv(summary.files["models"])
    _, datasets = read_csv(summary.files["datasets"])
    _, records = read_csv(summary.files["records"])
    assert len(models) == 500 and len(datasets) == 2000
    model_pos = {m["name"]: i for i, m in enumerate(models)}
    dataset_pos = {d["name"]: i for i, d in enumerate(datasets)}
    keys = [(dataset_pos[r["dataset"]], model_pos[r["model"]]) for r in records]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert len({m for _, m in keys}) > 450  # observations spread over the models


def test_full_density(tmp_path: Path) -> None:
    summary = generate_zoo(5, 7, 1.0, 0, tmp_path)
    assert summary.records == 35


def test_deterministic(zoo: SynthSummary, tmp_path: Path) -> None:
    again = generate_zoo(200, 300, 0.1, 7, tmp_path / "again")
    assert again.records == zoo.records
    assert file_bytes(again) == file_bytes(zoo)

    other = generate_zoo(200, 300, 0.1, 8, tmp_path / "other")
    other_bytes, zoo_bytes = file_bytes(other), file_bytes(zoo)
    for key in ("records", "models", "datasets"):
        assert other_bytes[key] != zoo_bytes[key]


def test_deterministic_sparse_path(tmp_path: Path) -> None:
    a = generate_zoo(300, 500, 0.02, 11, tmp_path / "a")
    b = generate_zoo(300, 500, 0.02, 11, tmp_path / "b")
    assert file_bytes(a) == file_bytes(b)


def test_creates_nested_out_dir(tmp_path: Path) -> None:
    out = tmp_path / "x" / "y" / "z"
    summary = generate_zoo(3, 4, 0.5, 1, str(out))
    assert summary.out_dir == out
    assert all(p.parent == out for p in summary.files.values())


def test_everything_listed_without_records(tmp_path: Path) -> None:
    summary = generate_zoo(20, 50, 0.001, 5, tmp_path)
    _, models = read_csv(summary.files["models"])
    _, datasets = read_csv(summary.files["datasets"])
    _, records = read_csv(summary.files["records"])
    assert len(models) == 20 and len(datasets) == 50
    assert len(records) == summary.records < 20 * 50 // 10


def test_few_models_few_families(tmp_path: Path) -> None:
    summary = generate_zoo(3, 2, 1.0, 0, tmp_path)
    _, models = read_csv(summary.files["models"])
    assert len({m["family"] for m in models}) == 3


def test_runs(zoo: SynthSummary, tmp_path: Path) -> None:
    summary = generate_zoo(200, 300, 0.1, 7, tmp_path, runs=3)
    _, records = read_csv(summary.files["records"])
    _, single = read_csv(zoo.files["records"])
    assert summary.records == len(records) == 3 * len(single)

    runs_per_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    accs_per_pair: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in records:
        runs_per_pair[r["model"], r["dataset"]].append(r["run"])
        accs_per_pair[r["model"], r["dataset"]].add(r["accuracy"])
    assert set(runs_per_pair) == {(r["model"], r["dataset"]) for r in single}
    assert all(runs == ["0", "1", "2"] for runs in runs_per_pair.values())
    # Runs have independent noise: most pairs show more than one distinct accuracy.
    varied = sum(1 for accs in accs_per_pair.values() if len(accs) > 1)
    assert varied > 0.8 * len(accs_per_pair)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"models": 0}, "models"),
        ({"models": -3}, "models"),
        ({"models": 2.5}, "models"),
        ({"datasets": 0}, "datasets"),
        ({"density": 0.0}, "density"),
        ({"density": -0.1}, "density"),
        ({"density": 1.5}, "density"),
        ({"density": float("nan")}, "density"),
        ({"runs": 0}, "runs"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_arguments(tmp_path: Path, kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {"models": 4, "datasets": 4, "density": 0.5, "seed": 0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        generate_zoo(out_dir=tmp_path / "bad", **args)  # type: ignore[arg-type]
    assert not (tmp_path / "bad").exists()


def test_accuracy_depends_on_metadata(tmp_path: Path) -> None:
    summary = generate_zoo(120, 1500, 0.15, 21, tmp_path)
    _, models = read_csv(summary.files["models"])
    _, datasets = read_csv(summary.files["datasets"])
    _, records = read_csv(summary.files["records"])
    family = {m["name"]: m["family"] for m in models}
    task = {d["name"]: (int(d["num_classes"]), int(d["samples_per_class"])) for d in datasets}

    by_task: dict[tuple[int, int], list[float]] = defaultdict(list)
    by_family: dict[str, list[float]] = defaultdict(list)
    for r in records:
        acc = float(r["accuracy"])
        by_task[task[r["dataset"]]].append(acc)
        by_family[family[r["model"]]].append(acc)

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    hard, easy = by_task[32, 10], by_task[2, 50]
    assert len(hard) > 100 and len(easy) > 100
    assert mean(hard) + 0.1 < mean(easy)

    family_means = sorted(mean(v) for v in by_family.values())
    assert len(family_means) == len(FAMILIES)
    assert family_means[-1] - family_means[0] > 0.03


def test_progress_bar_does_not_change_output(tmp_path: Path) -> None:
    quiet = generate_zoo(30, 40, 0.3, 2, tmp_path / "quiet")
    loud = generate_zoo(30, 40, 0.3, 2, tmp_path / "loud", progress=True)
    assert file_bytes(quiet) == file_bytes(loud)
