"""The zoo folder: graphrec's generic format as one folder, proxy scores included.

    DIR/records.csv            model,dataset,accuracy (+ any other columns, kept on the edge)
    DIR/models.csv             optional: name + model metadata
    DIR/datasets.csv           optional: name + dataset metadata
    DIR/scores_<metric>.csv    any number: model,dataset,value (one metric per file)

This is how the published zoos in `shared/data/zoos` and `graphrec synth` lay out a zoo, so
`graphrec ingest DIR` (or `--loader zoo DIR`) reads one without a spec. It is the built-in
`records` spec with the folder's files filled in; scores are found by file name, which a
TOML spec cannot express, hence Python.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import UsageError
from .spec import LoaderSpec, TableSpec, load_builtin

__all__ = ["SCORE_PREFIX", "ZOO_LOADER", "is_zoo_folder", "zoo_spec"]

#: The loader's name, as `--loader zoo`.
ZOO_LOADER = "zoo"
#: Score files are `scores_<metric>.csv`.
SCORE_PREFIX = "scores_"


def is_zoo_folder(folder: Path) -> bool:
    """Whether `folder` is laid out as a zoo (it holds records.csv)."""
    return Path(folder).is_dir() and (Path(folder) / "records.csv").is_file()


def zoo_spec(folder: Path) -> LoaderSpec:
    """The spec that reads the zoo folder `folder`; errors name what is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: the zoo loader reads a folder, and "
                         + ("this is a file" if folder.exists() else "it does not exist"))
    records = folder / "records.csv"
    if not records.is_file():
        found = ", ".join(sorted(p.name for p in folder.iterdir())[:8]) or "nothing"
        raise UsageError(f"{folder}: a zoo folder holds records.csv (model,dataset,accuracy), "
                         f"and this one holds {found}; add it, or read the folder with "
                         "--loader NAME or --spec FILE")
    optional = {name: folder / f"{name}.csv" for name in ("models", "datasets")}
    spec = load_builtin("records").with_files(
        records=records, **{k: p for k, p in optional.items() if p.is_file()})
    scores = []
    for path in sorted(folder.glob(f"{SCORE_PREFIX}*.csv")):
        metric = path.stem[len(SCORE_PREFIX):]
        if not metric.strip():
            raise UsageError(f"{path}: a score file is named scores_<metric>.csv (for example "
                             "scores_logme.csv); rename it so that it names its metric")
        scores.append(TableSpec("scores", path, layout="long", value="value", metric=metric))
    return replace(spec, name=ZOO_LOADER, source=folder,
                   description="a zoo folder: records.csv, models.csv, datasets.csv, "
                               "scores_<metric>.csv", scores=tuple(scores))
