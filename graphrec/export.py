"""`graphrec export`: the completed transferability matrix, observed and predicted, as a table.

Why a file and not a query: a spreadsheet, a notebook or another tool wants every pair at
once with what is known about it: the measured accuracy (runs, std) where there is one,
else the current predictor's score with its interval. Long form (one row per pair) is the
default because it carries the intervals and scales with the edges, not models x datasets;
`wide=True` gives the models x datasets grid people read.

Read model by model (`MODELS_PER_READ`), as `read_graph` does, so a million-edge zoo is
never one reply. A file is written whole to a temporary name and then renamed: a failed
export leaves an earlier file as it was.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import queries
from .errors import UsageError
from .predict.versions import shown_predictor
from .predict.workflow import MODELS_PER_READ, read_nodes, served
from .store import Store

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "FORMATS", "completed_matrix", "write_matrix"]

#: The long table's columns. `source` is observed or predicted; `score` is the measured
#: accuracy of an observed pair, the prediction of another; low/high only on predictions.
COLUMNS = ("model", "dataset", "source", "score", "low", "high", "runs", "std", "predictor")
#: File formats by suffix.
FORMATS = {".csv": "csv", ".parquet": "parquet"}


def completed_matrix(store: Store, predictor_id: str | None = None) -> pd.DataFrame:
    """Every observed pair and every pair the predictor scored (its complete version; the
    current predictor by default; none when nothing is trained), one row each, sorted by
    model then dataset. An observed pair is never also listed as predicted."""
    import pandas as pd

    record = shown_predictor(store, predictor_id)
    bound = served(record)
    models = [r["name"] for r in read_nodes(store, "models")]
    observed_q = queries.get("export/observed")
    predicted_q = queries.get("export/predicted")
    rows: list[tuple] = []
    for start in range(0, len(models), MODELS_PER_READ):
        chunk = models[start:start + MODELS_PER_READ]
        measured: set[tuple[str, str]] = set()
        for r in store.run(observed_q.text, observed_q.bind({"models": chunk})):
            for dataset, accuracy, runs, std in r["edges"]:
                measured.add((r["model"], dataset))
                rows.append((r["model"], dataset, "observed", accuracy, None, None, runs, std,
                             None))
        if record is None:
            continue
        for r in store.run(predicted_q.text, predicted_q.bind({"models": chunk, **bound})):
            for dataset, score, low, high in r["edges"]:
                if (r["model"], dataset) not in measured:
                    rows.append((r["model"], dataset, "predicted", score, low, high, None,
                                 None, bound["predictor"]))
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    frame = frame.astype({"score": "float64", "low": "float64", "high": "float64",
                          "std": "float64", "runs": "Int64"})
    return frame.sort_values(["model", "dataset"], ignore_index=True)


def wide(frame: pd.DataFrame) -> pd.DataFrame:
    """The long table as a models x datasets grid of scores (observed or predicted)."""
    grid = frame.pivot(index="model", columns="dataset", values="score")
    grid.columns.name = None
    return grid


def format_of(path: Path, fmt: str | None) -> str:
    """The format to write: `fmt`, else the file's suffix; an unknown one is a UsageError."""
    if fmt is not None:
        if fmt not in FORMATS.values():
            raise UsageError(f"unknown export format {fmt!r}; use one of "
                             f"{', '.join(sorted(set(FORMATS.values())))}")
        return fmt
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise UsageError(f"{path}: cannot tell the format from the suffix "
                         f"{path.suffix or '(none)'!r}; name the file .csv or .parquet, "
                         "or pass --format csv|parquet")
    return found


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse, before any reading, a target that cannot be written or would be lost."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the file to write, e.g. {path}/matrix.csv")
    if path.exists() and not overwrite:
        raise UsageError(f"{path} exists; pass --force to replace it, or choose another name")
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent} does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"{path.parent} is not writable; choose another folder")


def write_matrix(frame: pd.DataFrame, path: Path, fmt: str, *, wide_form: bool = False
                 ) -> dict[str, Any]:
    """Write `frame` (from `completed_matrix`) to `path` atomically; returns a summary."""
    table = wide(frame) if wide_form else frame
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError("Parquet needs pyarrow: pip install 'graphrec[parquet]' (or "
                             "export to .csv)") from None
    # Not mkstemp: its 0600 would stay on the file; this one gets the user's umask.
    temp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(3)}.tmp"
    try:
        if fmt == "csv":
            table.to_csv(temp, index=wide_form)
        else:
            table.to_parquet(temp, index=wide_form)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    counts = frame["source"].value_counts()
    return {"file": str(path), "format": fmt, "form": "wide" if wide_form else "long",
            "rows": len(table), "observed": int(counts.get("observed", 0)),
            "predicted": int(counts.get("predicted", 0)),
            "predictor": next(iter(frame.loc[frame["source"] == "predicted", "predictor"]),
                              None)}
