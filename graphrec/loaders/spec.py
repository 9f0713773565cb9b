"""Loader specs: declarative TOML files that map input files onto the graph model.

A spec says which file holds models, datasets, records (observed accuracies) and scores, in
which layout, under which column names. Supporting a new CSV layout means writing a spec, not
code. Every key is checked, so a typo is an error that names the key, not a silent default.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..names import close_names
from ..resources import resource_dir

#: Known properties and their types. Unmapped columns are kept too, with inferred types.
MODEL_FIELDS: dict[str, str] = {
    "name": "string", "family": "string", "params": "int", "gflops": "float",
    "top1": "fraction", "input_size": "int", "pretrain_dataset": "string",
}
DATASET_FIELDS: dict[str, str] = {
    "name": "string", "domain": "string", "num_classes": "int", "samples_per_class": "int",
    "train_size": "int", "labels": "list",
}

#: What a property name may be: letters, digits and underscores, not starting with a digit.
#: Every backend writes such a name as it is (FalkorDB's client cannot quote a backtick in
#: a map key at all), and every query can name it without quoting.
PROPERTY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def property_problem(key: object) -> str | None:
    """Why `key` cannot be a property name (None: it can), with a name that could be."""
    if isinstance(key, str) and PROPERTY_NAME.fullmatch(key):
        return None
    text = str(key)
    fixed = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_")
    fixed = f"p_{fixed}" if fixed[:1].isdigit() else fixed
    hint = f" (for example {fixed!r})" if fixed else ""
    return (f"{text!r} cannot be a property name: use letters, digits and underscores, not "
            f"starting with a digit{hint}")


@dataclass(frozen=True)
class EntitySpec:
    """How to read a metadata file of models or datasets."""

    kind: str  # "models" | "datasets"
    file: Path | None
    key: str = "name"
    columns: dict[str, str] = field(default_factory=dict)  # property -> column
    percent: tuple[str, ...] = ()
    constants: dict[str, Any] = field(default_factory=dict)
    list_separator: dict[str, str] = field(default_factory=dict)
    keep_other_columns: bool = True
    join: str = "key"  # "key", or "position": row i names the i-th dataset of the matrix
    key_as: str = "metadata_name"
    delimiter: str = ","

    @property
    def fields(self) -> dict[str, str]:
        return MODEL_FIELDS if self.kind == "models" else DATASET_FIELDS


@dataclass(frozen=True)
class TableSpec:
    """How to read records (observed accuracies) or scores, long or matrix layout."""

    kind: str  # "records" | "scores"
    file: Path | None
    layout: str = "long"  # "long" | "matrix"
    rows: str = "models"  # matrix: what each row is ("models" or "datasets")
    model: str = "model"
    dataset: str = "dataset"
    value: str = "accuracy"  # the column holding the accuracy or the score (long layout)
    unit: str = "fraction"  # records: "fraction" | "percent"
    metric: str | None = None  # scores: a fixed metric name ...
    metric_column: str | None = None  # ... or the column that holds it (long layout)
    keep_other_columns: bool = True
    delimiter: str = ","


@dataclass(frozen=True)
class LoaderSpec:
    name: str
    source: Path  # the spec file, for error messages
    description: str = ""
    encoding: str = "utf-8"
    models: EntitySpec | None = None
    datasets: EntitySpec | None = None
    records: TableSpec | None = None
    scores: tuple[TableSpec, ...] = ()

    def with_files(self, *, records: Path | None = None, models: Path | None = None,
                   datasets: Path | None = None) -> LoaderSpec:
        """A copy with files given on the command line in place of the spec's."""
        spec = self
        if records is not None:
            spec = replace(spec, records=replace(spec.records or TableSpec("records", None),
                                                 file=Path(records)))
        if models is not None:
            spec = replace(spec, models=replace(spec.models or EntitySpec("models", None),
                                                file=Path(models)))
        if datasets is not None:
            spec = replace(spec, datasets=replace(spec.datasets or EntitySpec("datasets", None),
                                                  file=Path(datasets)))
        return spec


_TOP_KEYS = {"name", "description", "encoding", "models", "datasets", "records", "scores"}
_ENTITY_KEYS = {"file", "key", "columns", "percent", "constants", "list_separator",
                "keep_other_columns", "join", "key_as", "delimiter"}
_TABLE_KEYS = {"file", "layout", "rows", "model", "dataset", "accuracy", "value", "unit",
               "accuracy_unit", "metric", "metric_column", "keep_other_columns", "delimiter"}


def builtin_specs() -> dict[str, Path]:
    """The loaders shipped with graphrec, by name (`--loader NAME`)."""
    return {p.stem: p for p in sorted(resource_dir("loaders").glob("*.toml"))}


def load_builtin(name: str, base: Path | None = None) -> LoaderSpec:
    specs = builtin_specs()
    if name not in specs:
        raise UsageError(f"no built-in loader named {name!r}; available: {', '.join(specs)}. "
                         "For your own layout, write a spec and pass --spec FILE.")
    return load_spec(specs[name], base=base)


def load_spec(path: str | Path, base: str | Path | None = None) -> LoaderSpec:
    """Read and check a spec. Relative file names resolve against `base` (default: the spec's
    own folder)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"loader spec not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder; --spec takes a loader spec file (.toml)") from None
    except OSError as exc:
        raise UsageError(f"cannot read loader spec {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a valid TOML file: {exc}") from None
    base_dir = Path(base) if base is not None else path.parent
    ctx = _Ctx(path)
    ctx.keys(raw, _TOP_KEYS, "")
    spec = LoaderSpec(
        name=ctx.typed(raw, "name", str, "", path.stem),
        source=path,
        description=ctx.typed(raw, "description", str, "", ""),
        encoding=ctx.typed(raw, "encoding", str, "", "utf-8"),
    )
    if "encoding" in raw:
        import codecs

        try:
            codecs.lookup(spec.encoding)
        except LookupError:
            ctx.fail("encoding", f"unknown text encoding {spec.encoding!r}")
    models = _entity(ctx, raw, "models", base_dir)
    datasets = _entity(ctx, raw, "datasets", base_dir)
    records = _table(ctx, raw.get("records"), "records", "records", base_dir)
    scores_raw = raw.get("scores", [])
    if isinstance(scores_raw, dict):
        scores_raw = [scores_raw]
    if not isinstance(scores_raw, list):
        ctx.fail("scores", "must be a table or an array of tables ([[scores]])")
    scores = tuple(_table(ctx, s, f"scores[{i}]", "scores", base_dir)
                   for i, s in enumerate(scores_raw))
    spec = replace(spec, models=models, datasets=datasets, records=records,
                   scores=tuple(s for s in scores if s is not None))
    if datasets and datasets.join == "position" and (records is None or records.layout != "matrix"):
        ctx.fail("datasets.join", "'position' pairs dataset rows with the columns of a matrix "
                 "records file; set records.layout = \"matrix\" or use join = \"key\"")
    return spec


class _Ctx:
    """Error reporting for one spec file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, reason: str) -> None:
        raise UsageError(f"loader spec {self.path}: {key}: {reason}")

    def property_name(self, key: object, where: str, *, value: bool = False) -> None:
        """Refuse a key (or, with `value`, the value at `where`) that cannot be a property
        name, naming the spec file and the key."""
        reason = property_problem(key)
        if reason:
            self.fail(where if value else f"{where}.{_toml_key(key)}", reason)

    def keys(self, table: dict, allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                close = close_names(key, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(f"{prefix}{key}", f"unknown key{hint}; allowed: "
                          f"{', '.join(sorted(allowed))}")

    def section(self, table: Any, label: str, allowed: set[str]) -> str:
        """Check that `label` is a TOML table with only `allowed` keys; its key prefix."""
        if not isinstance(table, dict):
            self.fail(label, "must be a table")
        self.keys(table, allowed, f"{label}.")
        return f"{label}."

    def typed(self, table: dict, key: str, typ: type, prefix: str, default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        if typ is str and not isinstance(value, str):
            self.fail(prefix + key, f"must be a string, got {value!r}")
        if typ is bool and not isinstance(value, bool):
            self.fail(prefix + key, f"must be true or false, got {value!r}")
        return value

    def choice(self, table: dict, key: str, prefix: str, choices: tuple[str, ...],
               default: str) -> str:
        value = self.typed(table, key, str, prefix, default)
        if value not in choices:
            self.fail(prefix + key, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def str_map(self, table: dict, key: str, prefix: str) -> dict[str, str]:
        value = table.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.fail(prefix + key, "must be a table of strings, e.g. { family = \"arch\" }")
        return dict(value)


def _toml_key(key: object) -> str:
    """A key as TOML writes it: bare where it can be, else quoted."""
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text)


def _file(ctx: _Ctx, table: dict, prefix: str, base: Path) -> Path | None:
    name = ctx.typed(table, "file", str, prefix, None)
    if name is None or name == "":
        return None
    p = Path(name).expanduser()
    return p if p.is_absolute() else base / p


def _entity(ctx: _Ctx, raw: dict, kind: str, base: Path) -> EntitySpec | None:
    table = raw.get(kind)
    if table is None:
        return None
    prefix = ctx.section(table, kind, _ENTITY_KEYS)
    fields = MODEL_FIELDS if kind == "models" else DATASET_FIELDS
    columns = ctx.str_map(table, "columns", prefix)
    for prop in columns:
        if prop == "name":
            ctx.fail(f"{prefix}columns.name", "set the name column with key = \"...\"")
        ctx.property_name(prop, f"{prefix}columns")
    percent = table.get("percent", [])
    if not isinstance(percent, list) or not all(isinstance(p, str) for p in percent):
        ctx.fail(prefix + "percent", "must be a list of property names")
    for prop in percent:
        ctx.property_name(prop, f"{prefix}percent", value=True)
        if fields.get(prop, "float") not in ("float", "fraction"):
            ctx.fail(prefix + "percent", f"{prop!r} is not a number property")
    constants = table.get("constants", {})
    if not isinstance(constants, dict):
        ctx.fail(prefix + "constants", "must be a table, e.g. { input_size = 224 }")
    for prop, value in constants.items():
        ctx.property_name(prop, f"{prefix}constants")
        if prop == "name":
            ctx.fail(f"{prefix}constants.name", "names come from each row's key column; "
                     "a constant cannot set them")
        if not isinstance(value, str | int | float | bool):
            ctx.fail(f"{prefix}constants.{prop}", "must be a string, number or boolean")
    seps = ctx.str_map(table, "list_separator", prefix)
    for prop, sep in seps.items():
        ctx.property_name(prop, f"{prefix}list_separator")
        if not sep:
            ctx.fail(f"{prefix}list_separator.{prop}", "must not be empty")
    key_as = ctx.typed(table, "key_as", str, prefix, "metadata_name")
    if "key_as" in table:
        ctx.property_name(key_as, f"{prefix}key_as", value=True)
        if key_as == "name":
            ctx.fail(f"{prefix}key_as", "'name' holds the matrix's name; keep the metadata's "
                     "own name under another property, e.g. key_as = \"metadata_name\"")
    return EntitySpec(
        kind=kind,
        file=_file(ctx, table, prefix, base),
        key=ctx.typed(table, "key", str, prefix, "name"),
        columns=columns,
        percent=tuple(percent),
        constants=dict(constants),
        list_separator=seps,
        keep_other_columns=ctx.typed(table, "keep_other_columns", bool, prefix, True),
        join=ctx.choice(table, "join", prefix, ("key", "position"), "key"),
        key_as=key_as,
        delimiter=_delimiter(ctx, table, prefix),
    )


def _delimiter(ctx: _Ctx, table: dict, prefix: str) -> str:
    value = ctx.typed(table, "delimiter", str, prefix, ",")
    if value in ("\\t", "tab"):
        value = "\t"
    if len(value) != 1:
        ctx.fail(prefix + "delimiter", f"must be one character, got {value!r}")
    return value


def _table(ctx: _Ctx, table: Any, label: str, kind: str, base: Path) -> TableSpec | None:
    if table is None:
        return None
    prefix = ctx.section(table, label, _TABLE_KEYS)
    value_key = "accuracy" if kind == "records" else "value"
    other = "value" if kind == "records" else "accuracy"
    if other in table:
        ctx.fail(prefix + other, f"{kind} name their value column with {value_key} = \"...\"")
    if kind == "records" and ("metric" in table or "metric_column" in table):
        ctx.fail(prefix + "metric", "records hold accuracies; put proxy scores in [[scores]]")
    if kind == "scores" and ("unit" in table or "accuracy_unit" in table):
        ctx.fail(prefix + "unit", "scores are stored as given; unit applies to records")
    unit = ctx.choice(table, "accuracy_unit" if "accuracy_unit" in table else "unit", prefix,
                      ("fraction", "percent"), "fraction")
    spec = TableSpec(
        kind=kind,
        file=_file(ctx, table, prefix, base),
        layout=ctx.choice(table, "layout", prefix, ("long", "matrix"), "long"),
        rows=ctx.choice(table, "rows", prefix, ("models", "datasets"), "models"),
        model=ctx.typed(table, "model", str, prefix, "model"),
        dataset=ctx.typed(table, "dataset", str, prefix, "dataset"),
        value=ctx.typed(table, value_key, str, prefix, value_key),
        unit=unit,
        metric=ctx.typed(table, "metric", str, prefix, None),
        metric_column=ctx.typed(table, "metric_column", str, prefix, None),
        keep_other_columns=ctx.typed(table, "keep_other_columns", bool, prefix, True),
        delimiter=_delimiter(ctx, table, prefix),
    )
    if kind == "scores":
        if (spec.metric is None) == (spec.metric_column is None):
            ctx.fail(prefix + "metric", "give exactly one of metric = \"logme\" (one metric "
                     "for the whole file) or metric_column = \"...\" (long layout)")
        if spec.metric_column is not None and spec.layout == "matrix":
            ctx.fail(prefix + "metric_column", "a matrix file holds one metric: use metric")
    return spec
