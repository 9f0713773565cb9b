"""Turn a loader spec and its files into validated graph data, or a complete list of problems.

Nothing here touches the database: every file is read and checked in full first, so that a
bad input is reported as a whole (file, row, column, reason) and the graph stays untouched.
"""

from __future__ import annotations

import re
from typing import Any

from ..bulk import paused_gc
from ..errors import Problem, ValidationError
from ..names import INT64
from .csvfile import Table, describe_bad_number, parse_number, read_table, require_columns
from .spec import EntitySpec, LoaderSpec, TableSpec
from .zoodata import EDGE_KEYS, Entity, ZooData, name_problems

__all__ = ["build", "read_records", "snake"]

_INT = re.compile(r"[+-]?\d+")


def snake(column: str) -> str:
    """A property key for an unmapped column: 'acc@1 (top)' -> 'acc_1_top'."""
    key = re.sub(r"[^0-9A-Za-z]+", "_", column).strip("_").lower()
    if not key:
        return "column"
    return f"c_{key}" if key[0].isdigit() else key


def build(spec: LoaderSpec) -> ZooData:
    """Read every file named by `spec`; raise ValidationError listing all problems."""
    with paused_gc():  # a million records are millions of small objects
        return _build(spec)


def _build(spec: LoaderSpec) -> ZooData:
    problems: list[Problem] = []
    zoo = ZooData()
    if spec.records is None and spec.models is None and spec.datasets is None and not spec.scores:
        problems.append(Problem(str(spec.source), "the loader names no files to ingest"))
        raise ValidationError(problems)
    # A metadata section without a file is optional; a records section needs one.
    if spec.records is not None and spec.records.file is None:
        problems.append(Problem(str(spec.source), "no records file given: pass the CSV of "
                                "observed accuracies (or set records.file in the spec)"))
    records_table = _read(spec.records, spec, problems, "records")
    model_table = _read(spec.models, spec, problems, "models metadata")
    dataset_table = _read(spec.datasets, spec, problems, "datasets metadata")
    score_tables = [_read(s, spec, problems, "scores") for s in spec.scores]

    matrix_columns: list[tuple[str, int]] | None = None
    if records_table is not None and spec.records is not None:
        zoo.sources["records"] = records_table.path.name
        matrix_columns = read_records(zoo, spec.records, records_table, problems)
        records_table.rows.clear()  # the largest file: let its text go before the rest
    metadata_ok = True
    if model_table is not None and spec.models is not None:
        zoo.sources["models"] = model_table.path.name
        before = len(problems)
        _entities(zoo.models, spec.models, model_table, problems, None)
        metadata_ok = len(problems) == before
    elif spec.models is not None and spec.models.file is not None:
        metadata_ok = False  # unreadable: its problems are reported already
    if dataset_table is not None and spec.datasets is not None:
        zoo.sources["datasets"] = dataset_table.path.name
        # Joined by position, dataset names come from the matrix; when the matrix could
        # not be read, the rows are still checked under their own names.
        positional = matrix_columns if spec.datasets.join == "position" else None
        before = len(problems)
        _entities(zoo.datasets, spec.datasets, dataset_table, problems, positional)
        metadata_ok = metadata_ok and len(problems) == before and (
            spec.datasets.join != "position" or matrix_columns is not None)
    elif spec.datasets is not None and spec.datasets.file is not None:
        metadata_ok = False
    for s, table in zip(spec.scores, score_tables, strict=True):
        if table is not None:
            _scores(zoo, s, table, problems)
    if metadata_ok:
        _check_references(zoo, spec, problems)
    problems += name_problems(zoo)
    if problems:
        raise ValidationError(problems)
    return zoo


def _read(part: EntitySpec | TableSpec | None, spec: LoaderSpec, problems: list[Problem],
          what: str) -> Table | None:
    if part is None or part.file is None:
        return None
    return read_table(part.file, spec.encoding, part.delimiter, problems, what)


# -- records and scores -------------------------------------------------------------------


def _value(text: str, table: Table, line: int, column: str, problems: list[Problem],
           unit: str | None) -> float | None:
    value = parse_number(text)
    if value is None:
        problems.append(Problem(table.label, describe_bad_number(text), line, column))
        return None
    if unit is None:
        return value
    if unit == "percent" and not text.endswith("%"):
        value /= 100.0
    if not 0.0 <= value <= 1.0:
        hint = (" If this file gives accuracy in percent, say so (--accuracy-unit percent, or "
                "unit = \"percent\" in the spec)." if unit == "fraction" and 1 < value <= 100
                else "")
        problems.append(Problem(table.label, f"accuracy {text} is outside [0, 1] after "
                                f"normalisation ({value:g}).{hint}", line, column))
        return None
    return value


def read_records(zoo: ZooData, spec: TableSpec, table: Table,
                 problems: list[Problem]) -> list[tuple[str, int]] | None:
    """Fill zoo.transfers from a records table (a CSV file's, or `graphrec serve`'s rows),
    adding what is wrong to `problems`; for a matrix, return its columns in order."""
    names: dict[str, str] = {}  # interning: one string object per distinct name
    label = table.label
    transfers, first_seen = zoo.transfers, zoo.first_seen

    def add(model: str, dataset: str, value: float, extra: tuple, line: int) -> None:
        # Runs once per record (a million times for a large zoo): kept lean on purpose.
        m = names.get(model)
        if m is None:
            m = names[model] = model
            first_seen.setdefault(("model", model), (label, line))
        d = names.get(dataset)
        if d is None:
            d = names[dataset] = dataset
            first_seen.setdefault(("dataset", dataset), (label, line))
        runs = transfers.get((m, d))
        if runs is None:
            transfers[(m, d)] = [(value, extra)]
        else:
            runs.append((value, extra))

    if spec.layout == "long":
        needed = [(spec.model, "the model name"), (spec.dataset, "the dataset name"),
                  (spec.value, "the accuracy")]
        if not require_columns(table, needed, problems):
            return None
        mi, di, vi = (table.column(c) for c in (spec.model, spec.dataset, spec.value))
        extras = [(i, h) for i, h in enumerate(table.header) if i not in (mi, di, vi) and h]
        if not spec.keep_other_columns:
            extras = []
        # Extra columns never overwrite what graphrec computes for the edge.
        extra_cols = [(i, snake(h) + ("_raw" if snake(h) in EDGE_KEYS else ""),
                       _CASTS[_infer([r[i] for r in table.rows])]) for i, h in extras]
        zoo.extra_keys = tuple(key for _, key, _ in extra_cols)
        for row, line in zip(table.rows, table.lines, strict=True):
            model, dataset = row[mi], row[di]
            ok = bool(model) or _name(model, table, line, spec.model, "model", problems)
            ok = (bool(dataset) or _name(dataset, table, line, spec.dataset, "dataset",
                                         problems)) and ok
            value = _value(row[vi], table, line, spec.value, problems, spec.unit)
            if ok and value is not None:
                extra = tuple([cast(row[i]) if row[i] != "" else None
                               for i, _, cast in extra_cols]) if extra_cols else ()
                add(model, dataset, value, extra, line)
        zoo.record_rows += len(table.rows)
        return None
    before = sum(len(r) for r in transfers.values())
    columns = _matrix(table, spec, problems,
                      lambda m, d, v, line, col: add(m, d, v, (), line), spec.unit)
    zoo.record_rows += sum(len(r) for r in transfers.values()) - before
    return columns


def _matrix(table: Table, spec: TableSpec, problems: list[Problem], emit,
            unit: str | None) -> list[tuple[str, int]] | None:
    """Walk a models x datasets (or datasets x models) matrix; empty cells are unobserved."""
    col_names = table.header[1:]
    ok = True
    for i, name in enumerate(col_names):
        if not name:
            problems.append(Problem(table.label, f"column {i + 2} has no name in the header; "
                                    f"each column must name a "
                                    f"{'dataset' if spec.rows == 'models' else 'model'}", 1))
            ok = False
    row_seen: dict[str, int] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        name = row[0]
        row_kind = "model" if spec.rows == "models" else "dataset"
        if not _name(name, table, line, table.header[0] or "(row names)", row_kind, problems):
            ok = False
            continue
        if name in row_seen:
            problems.append(Problem(table.label, f"{row_kind} {name!r} has two rows (lines "
                                    f"{row_seen[name]} and {line}); merge them", line))
            ok = False
            continue
        row_seen[name] = line
        for j, cell in enumerate(row[1:]):
            if cell == "":
                continue
            value = _value(cell, table, line, col_names[j], problems, unit)
            if value is None or not col_names[j]:
                continue
            model, dataset = (name, col_names[j]) if spec.rows == "models" else (col_names[j],
                                                                                 name)
            emit(model, dataset, value, line, col_names[j])
    return [(n, i + 2) for i, n in enumerate(col_names)] if ok else None


def _scores(zoo: ZooData, spec: TableSpec, table: Table, problems: list[Problem]) -> None:
    zoo.sources.setdefault("scores", table.path.name)

    def add(model: str, dataset: str, metric: str, value: float, line: int, col: str) -> None:
        key = (model, dataset, metric)
        if key in zoo.scores and zoo.scores[key] != value:
            problems.append(Problem(table.label, f"a second, different {metric} score for "
                                    f"{model!r} on {dataset!r}", line, col))
        zoo.scores[key] = value
        zoo.first_seen.setdefault(("model", model), (table.label, line))
        zoo.first_seen.setdefault(("dataset", dataset), (table.label, line))

    if spec.layout == "matrix":
        assert spec.metric is not None
        _matrix(table, spec, problems,
                lambda m, d, v, line, col: add(m, d, spec.metric, v, line, col), None)
        return
    needed = [(spec.model, "the model name"), (spec.dataset, "the dataset name"),
              (spec.value, "the score")]
    if spec.metric_column:
        needed.append((spec.metric_column, "the metric name"))
    if not require_columns(table, needed, problems):
        return
    mi, di, vi = (table.column(c) for c in (spec.model, spec.dataset, spec.value))
    ti = table.column(spec.metric_column) if spec.metric_column else None
    for row, line in zip(table.rows, table.lines, strict=True):
        ok = _name(row[mi], table, line, spec.model, "model", problems)
        ok = _name(row[di], table, line, spec.dataset, "dataset", problems) and ok
        metric = row[ti] if ti is not None else spec.metric
        if not metric:
            problems.append(Problem(table.label, "empty metric name", line, spec.metric_column))
            ok = False
        value = _value(row[vi], table, line, spec.value, problems, None)
        if ok and value is not None:
            add(row[mi], row[di], str(metric), value, line, spec.value)


def _name(value: str, table: Table, line: int, column: str, kind: str,
          problems: list[Problem]) -> bool:
    if value == "":
        problems.append(Problem(table.label, f"empty {kind} name", line, column))
        return False
    return True


# -- metadata -------------------------------------------------------------------------------


def _infer(values: list[str]) -> str:
    present = [v for v in values if v != ""]
    if present and all(_is_int(v) for v in present):
        # Whole numbers beyond 64 bits are kept as their text: no database stores them.
        return "int" if all(int(v) in INT64 for v in present) else "string"
    if present and all(parse_number(v) is not None and not v.endswith("%") for v in present):
        return "float"
    return "string"


def _is_int(text: str) -> bool:
    digits = text[1:] if text[:1] in ("+", "-") else text
    return digits.isascii() and digits.isdigit()


#: How an inferred column kind turns a cell's text into a value.
_CASTS: dict[str, Any] = {"int": int, "float": float, "string": str}


def _entities(out: dict[str, Entity], spec: EntitySpec, table: Table, problems: list[Problem],
              positional: list[tuple[str, int]] | None) -> None:
    kind = spec.kind[:-1]  # "model" / "dataset"
    needed = [(spec.key, f"the {kind} name")]
    needed += [(col, f"property {prop!r}") for prop, col in spec.columns.items()]
    if not require_columns(table, needed, problems):
        return
    fields = spec.fields
    mapped = {spec.key: "name", **{col: prop for prop, col in spec.columns.items()}}
    # Unmapped header names that match a known property map onto it directly.
    for h in table.header:
        if h not in mapped and h in fields and h not in spec.columns:
            mapped[h] = h
    extras: dict[str, str] = {}
    if spec.keep_other_columns:
        taken = set(mapped.values()) | set(spec.constants)
        for h in table.header:
            if h and h not in mapped:
                key = snake(h)
                if key in taken or key in fields:
                    key = f"{key}_raw"
                if key in taken:
                    problems.append(Problem(table.label, f"column becomes property {key!r}, "
                                            "which another column already fills; map it in a "
                                            "spec's columns", 1, h))
                    continue
                taken.add(key)
                extras[h] = key
    for prop in spec.constants:
        if prop in set(mapped.values()) - {"name"}:
            problems.append(Problem(str(table.path), f"constant {prop!r} also comes from a "
                                    "column; keep one of them"))
    if positional is not None and len(positional) != len(table.rows):
        problems.append(Problem(table.label, f"{len(table.rows)} dataset rows, but the records "
                                f"matrix has {len(positional)} dataset columns; with join = "
                                "\"position\" row i describes column i, so the counts must "
                                "match", table.lines[-1] if table.lines else 1))
        return
    kinds = {h: _infer([r[table.column(h)] for r in table.rows]) for h in extras}
    index = {h: table.column(h) for h in list(mapped) + list(extras)}
    percent = set(spec.percent)
    for n, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        props: dict[str, Any] = dict(spec.constants)
        ok = True
        for column, prop in mapped.items():
            text = row[index[column]]
            if prop == "name":
                continue
            if text == "":
                continue  # missing value: the property is simply absent
            value = _typed(text, fields.get(prop, "string"), prop in percent, prop,
                           spec.list_separator.get(prop), table, line, column, problems)
            if value is None:
                ok = False
            else:
                props[prop] = value
        for column, key in extras.items():
            text = row[index[column]]
            if text != "":
                sep = spec.list_separator.get(key)
                props[key] = ([v.strip() for v in text.split(sep) if v.strip()] if sep
                              else _CASTS[kinds[column]](text))
        key_text = row[index[spec.key]]
        if positional is not None:
            name = positional[n][0]
            if key_text:
                props[spec.key_as] = key_text
        else:
            name = key_text
            if not _name(name, table, line, spec.key, kind, problems):
                continue
        if not ok:
            continue
        previous = out.get(name)
        if previous is not None and previous.props != props:
            diff = sorted(k for k in set(previous.props) | set(props)
                          if previous.props.get(k) != props.get(k))
            problems.append(Problem(table.label, f"conflicting metadata for {kind} {name!r}: "
                                    f"line {previous.origin[1]} says "
                                    f"{ {k: previous.props.get(k) for k in diff} }, this line "
                                    f"says { {k: props.get(k) for k in diff} }", line,
                                    spec.key))
            continue
        out.setdefault(name, Entity(props, (table.label, line)))


def _typed(text: str, kind: str, percent: bool, prop: str, sep: str | None, table: Table,
           line: int, column: str, problems: list[Problem]) -> Any:
    if kind == "list" or sep:
        return [v.strip() for v in text.split(sep or ";") if v.strip()]
    if kind == "string":
        return text
    value = parse_number(text)
    if value is None:
        problems.append(Problem(table.label, describe_bad_number(text) + f" (property {prop})",
                                line, column))
        return None
    if percent and not text.endswith("%"):
        value /= 100.0
    if kind == "int":
        if _INT.fullmatch(text) and int(text) not in INT64:
            problems.append(Problem(table.label, f"{prop} {text} is beyond the 64-bit whole "
                                    "numbers the databases store; declare the property a "
                                    "string (or a float) in the spec", line, column))
            return None
        if _INT.fullmatch(text):
            return int(text)  # exact, also beyond 2**53
        if value != int(value):
            problems.append(Problem(table.label, f"{text!r} is not a whole number (property "
                                    f"{prop})", line, column))
            return None
        return int(value)
    if kind == "fraction" and not 0.0 <= value <= 1.0:
        problems.append(Problem(table.label, f"{prop} {text} is outside [0, 1]; if it is a "
                                f"percentage, write it as {text}% (or list {prop} in a "
                                "spec's percent = [...])", line, column))
        return None
    return value


def _check_references(zoo: ZooData, spec: LoaderSpec, problems: list[Problem]) -> None:
    """Records and scores may only name models and datasets that given metadata defines."""
    checks = []
    if spec.models is not None and spec.models.file is not None:
        checks.append(("model", zoo.models, spec.models.file))
    if spec.datasets is not None and spec.datasets.file is not None:
        checks.append(("dataset", zoo.datasets, spec.datasets.file))
    for kind, known, meta_file in checks:
        missing = sorted((where, name) for (k, name), where in zoo.first_seen.items()
                         if k == kind and name not in known)
        for (file, line), name in missing:
            problems.append(Problem(file, f"{kind} {name!r} is not in {meta_file}; add it "
                                    "there or fix the name (first use on this row)", line))
