"""Reading the user's files: which loader spec a path and options mean, and the validated
zoo it gives (`graphrec.load`, what `ingest --dry-run` and the benchmark read).

Here and not in the API because the benchmark reads files too, and the API runs the
benchmark: one home below both.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import UsageError
from .build import build
from .spec import LoaderSpec, TableSpec, load_builtin, load_spec
from .zoo import ZOO_LOADER, is_zoo_folder, zoo_spec
from .zoodata import ZooData

__all__ = ["load", "resolve_spec"]


def load(path: str | Path | None = None, *, loader: str | None = None,
         spec: str | Path | None = None, models: str | Path | None = None,
         datasets: str | Path | None = None, accuracy_unit: str | None = None,
         scores: str | Path | None = None, metric: str | None = None,
         score_rows: str = "models") -> ZooData:
    """Read and validate input files without touching any database.

    - `path` alone (a CSV file): the generic `records` loader.
    - `path` a folder holding records.csv (a zoo folder: optional models.csv, datasets.csv
      and scores_<metric>.csv beside it), or `loader="zoo"`: see `graphrec.loaders.zoo`.
    - `loader="domainnet", path=DIR`: a built-in spec, files relative to DIR.
    - `spec="my_zoo.toml"`: your own spec, files relative to `path` (a folder) if given,
      else to the spec's folder.
    - `scores="LogME.csv", metric="logme"`: also (or only) a wide matrix of proxy scores,
      one row per model (`score_rows="datasets"`: one row per dataset), as SCORED edges.
    """
    chosen = resolve_spec(path, loader=loader, spec=spec, models=models, datasets=datasets,
                          accuracy_unit=accuracy_unit, scores=scores, metric=metric,
                          score_rows=score_rows)
    return build(chosen)


def resolve_spec(path: str | Path | None = None, *, loader: str | None = None,
                 spec: str | Path | None = None, models: str | Path | None = None,
                 datasets: str | Path | None = None, accuracy_unit: str | None = None,
                 scores: str | Path | None = None, metric: str | None = None,
                 score_rows: str = "models") -> LoaderSpec:
    """Pick the loader spec that `load` would use, with command-line files filled in."""
    if loader and spec:
        raise UsageError("give either --loader NAME or --spec FILE, not both")
    if (scores is None) != (metric is None):
        raise UsageError("a score matrix needs its metric: give --scores FILE together with "
                         "--metric NAME (for example --metric logme)")
    if metric is not None and not str(metric).strip():
        raise UsageError("--metric must name the score (for example logme), not be empty")
    if score_rows not in ("models", "datasets"):
        raise UsageError(f"--score-rows must be 'models' or 'datasets', got {score_rows!r}")
    p = Path(path) if path is not None else None
    matrix = (TableSpec("scores", Path(scores), layout="matrix", rows=score_rows,
                        metric=str(metric)),) if scores is not None else ()
    if matrix and p is None and not (spec or loader):
        if models or datasets:
            raise UsageError("--models/--datasets describe the nodes of a records file: give "
                             "the records CSV too, or ingest the metadata first")
        return LoaderSpec(name="scores", source=Path(scores), scores=matrix)
    if loader == ZOO_LOADER or (p is not None and not (spec or loader) and is_zoo_folder(p)
                                and not matrix):
        if spec:
            raise UsageError("give either --loader NAME or --spec FILE, not both")
        if p is None:
            raise UsageError("--loader zoo reads a folder: give the folder (graphrec ingest "
                             "--loader zoo DIR)")
        chosen = zoo_spec(p).with_files(models=_abs(models), datasets=_abs(datasets))
    elif spec or loader:
        if p is not None and not p.is_dir():
            raise UsageError(f"{p}: with --loader/--spec, PATH is the folder holding the files "
                             "the spec names" + ("" if p.exists() else " (it does not exist)"))
        chosen = load_spec(spec, base=p) if spec else load_builtin(str(loader), base=p)
        chosen = chosen.with_files(models=_abs(models), datasets=_abs(datasets))
    else:
        if p is None:
            raise UsageError("nothing to ingest: give a records CSV, or --loader NAME DIR, "
                             "or --spec FILE")
        if p.is_dir():
            raise UsageError(f"{p} is a folder: name the records CSV inside it, or pick a "
                             "loader for the folder's layout with --loader NAME (graphrec "
                             "ingest --help lists them) or --spec FILE; a zoo folder holds "
                             "records.csv (with models.csv, datasets.csv and "
                             "scores_<metric>.csv beside it)")
        chosen = load_builtin("records").with_files(records=p, models=_abs(models),
                                                    datasets=_abs(datasets))
    if accuracy_unit is not None:
        if accuracy_unit not in ("fraction", "percent"):
            raise UsageError("--accuracy-unit must be 'fraction' or 'percent'")
        if chosen.records is None:
            raise UsageError("--accuracy-unit applies to records, and this loader has none")
        chosen = replace(chosen, records=replace(chosen.records, unit=accuracy_unit))
    return replace(chosen, scores=(*chosen.scores, *matrix)) if matrix else chosen


def _abs(p: str | Path | None) -> Path | None:
    return Path(p) if p is not None else None
