"""Where a benchmark's matrix and optional feature files come from, with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..loaders import builtin_specs, load_builtin
from ..loaders.read import load
from ..loaders.zoo import ZOO_LOADER, is_zoo_folder
from ..predict.graph import TransferGraph
from .runner import matrix_graph

__all__ = ["detect_loader", "feature_files", "given_features", "load_features", "load_matrix"]

#: How the authors name their node feature files (`DomainNet_source_embedding.npy`, ...).
FEATURE_PATTERNS = {"model": "*_source_embedding.npy", "dataset": "*_target_embedding.npy"}


def detect_loader(folder: Path) -> str:
    """The built-in loader whose files are all in `folder` (exactly one must match); a
    folder with `records.csv` (a zoo folder, what `graphrec synth` writes) takes the `zoo`
    loader, which reads its metadata and `scores_<metric>.csv` files too."""
    matches = []
    for name in builtin_specs():
        spec = load_builtin(name, base=folder)
        files = [part.file for part in (spec.records, spec.models, spec.datasets)
                 if part is not None and part.file is not None]
        if files and all(Path(f).is_file() for f in files):
            matches.append(name)
    if not matches and is_zoo_folder(folder):
        matches.append(ZOO_LOADER)
    if len(matches) != 1:
        found = ", ".join(sorted(p.name for p in folder.iterdir())[:8]) or "nothing"
        what = "none matches" if not matches else f"several match ({', '.join(matches)})"
        raise UsageError(f"{folder}: cannot tell which loader reads this folder ({what}; it "
                         f"holds {found}); name one with --loader NAME or --spec FILE")
    return matches[0]


def load_matrix(path: Path, loader: str | None = None, spec: Path | None = None,
                **scores: Any) -> tuple[TransferGraph, str]:
    """(the graph in the records' order, a description of the source); `scores` are
    `graphrec.load`'s score-matrix options (scores, metric, score_rows)."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"--data {path}: no such file or folder")
    if path.is_dir() and not loader and not spec:
        loader = detect_loader(path)
    zoo = load(path, loader=loader, spec=spec, **scores)
    source = f"{path} ({loader or spec or 'records'} loader)"
    if scores.get("scores") is not None:
        source += f"; {scores['metric']} scores {scores['scores']}"
    return matrix_graph(zoo), source


def feature_files(folder: Path) -> tuple[Path, Path] | None:
    """The authors' style feature files in `folder`, when there is exactly one of each."""
    if not folder.is_dir():
        return None
    found = [sorted(folder.glob(FEATURE_PATTERNS[side])) for side in ("model", "dataset")]
    if all(len(f) == 1 for f in found):
        return found[0][0], found[1][0]
    return None


def load_features(path: Path, side: str, rows: int) -> np.ndarray:
    """A node feature matrix from a .npy (or .csv without header) file: one row per node."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--{side}-features {path}: no such file")
    try:
        if path.suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        else:
            arr = np.loadtxt(path, delimiter=",", ndmin=2)
    except (ValueError, OSError) as exc:
        raise UsageError(f"--{side}-features {path}: not a readable .npy or numeric CSV "
                         f"file ({exc})") from None
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise UsageError(f"--{side}-features {path}: expected a 2-D numeric array (one row "
                         f"per {side}), got shape {arr.shape} of {arr.dtype}")
    if len(arr) != rows:
        raise UsageError(f"--{side}-features {path}: {len(arr)} rows, but the matrix has "
                         f"{rows} {side}s; give one row per {side}, in the records' order")
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise UsageError(f"--{side}-features {path}: row {r}, column {c} is NaN or "
                         "infinite; fill or drop it")
    return arr.astype(np.float64)


def given_features(folder: Path, graph: TransferGraph) -> dict[str, np.ndarray]:
    """The authors' style feature arrays found in `folder` for the `-given` methods, as
    `run_benchmark` keyword arguments; empty when the folder has none."""
    found = feature_files(Path(folder))
    if not found:
        return {}
    return {"model_features": load_features(found[0], "model", graph.num_models),
            "dataset_features": load_features(found[1], "dataset", graph.num_datasets)}
