"""Reading delimited text files with every defect reported by file, row and column."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem
from ..names import close_names

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity",
               "-infinity"}


@dataclass
class Table:
    """A parsed file: header, rows (as lists of stripped strings) and their line numbers."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # 1-based line of each row in the file (the header is line 1)

    @property
    def label(self) -> str:
        return str(self.path)

    def column(self, name: str) -> int:
        return self.header.index(name)


def read_table(path: Path, encoding: str, delimiter: str, problems: list[Problem],
               what: str) -> Table | None:
    """Read `path` or add problems and return None. `what` names the role in messages."""
    label = str(path)
    if not path.exists():
        problems.append(Problem(label, f"{what} file not found"))
        return None
    if path.is_dir():
        problems.append(Problem(label, f"{what} file is a folder, expected a CSV file"))
        return None
    data = path.read_bytes()
    if not data.strip():
        problems.append(Problem(label, f"{what} file is empty; expected a header row and data"))
        return None
    try:
        text = data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8")
                           else encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(Problem(label, f"not valid {encoding} text (byte {exc.start}, "
                                       f"0x{data[exc.start]:02x}); save the file as UTF-8 or "
                                       "set encoding = \"...\" in a loader spec", row=line))
        return None
    if not text.strip():
        problems.append(Problem(label, f"{what} file is empty; expected a header row and data"))
        return None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        problems.append(Problem(label, "contains a NUL byte: this looks like a binary file, "
                                       "not CSV text", row=line))
        return None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    header: list[str] | None = None
    try:
        for record in reader:
            if header is None:
                header = [h.strip() for h in record]
                continue
            cells = [v.strip() for v in record]
            if not any(cells):
                continue  # blank line
            rows.append(cells)
            lines.append(reader.line_num)
    except csv.Error as exc:
        problems.append(Problem(label, f"not readable as CSV: {exc}", row=reader.line_num))
        return None
    if header is None or not any(header):
        problems.append(Problem(label, "the first line, which must be the header, is empty; "
                                       "remove the blank line(s) above the column names", row=1))
        return None
    seen: dict[str, int] = {}
    ok = True
    for i, h in enumerate(header):
        if h in seen and h:
            problems.append(Problem(label, f"column name appears twice (columns {seen[h] + 1} "
                                           f"and {i + 1}); rename one", row=1, column=h))
            ok = False
        seen.setdefault(h, i)
    if not rows:
        problems.append(Problem(label, f"{what} file has a header but no data rows", row=1))
        ok = False
    width = len(header)
    bad = 0
    for record, line in zip(rows, lines, strict=True):
        if len(record) != width:
            bad += 1
            if bad <= 20:
                problems.append(Problem(label, f"has {len(record)} fields, the header has "
                                               f"{width}", row=line))
    if bad > 20:
        problems.append(Problem(label, f"{bad - 20} more rows have the wrong number of fields"))
    return Table(path, header, rows, lines) if ok and not bad else None


def require_columns(table: Table, columns: list[tuple[str, str]],
                    problems: list[Problem]) -> bool:
    """Check that each (column, why) exists; report each missing one with what is there."""
    ok = True
    for column, why in columns:
        if column not in table.header:
            close = close_names(column, table.header, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            problems.append(Problem(
                table.label, f"missing column (needed for {why}){hint} The file has: "
                f"{', '.join(repr(h) for h in table.header)}", row=1, column=column))
            ok = False
    return ok


def parse_number(text: str) -> float | None:
    """A finite float from `text`, or None. Accepts a trailing '%' (divided by 100)."""
    try:
        value = float(text)  # the fast path: a million of these for a large zoo
    except ValueError:
        if text.endswith("%"):
            inner = parse_number(text[:-1].strip())
            return None if inner is None or text[:-1].strip().endswith("%") else inner / 100.0
        return None
    if not math.isfinite(value) or "_" in text:  # nan, inf, and Python's 1_000 literals
        return None
    return value


def describe_bad_number(text: str) -> str:
    """Why `parse_number` refused `text`, in words a user can act on."""
    body = text[:-1].strip() if text.endswith("%") else text
    if body.strip().lower() in _NON_FINITE:
        return f"{text!r} is not a finite number (NaN and infinity are not allowed here)"
    if text == "":
        return "is empty; expected a number"
    if _NUMBER.fullmatch(body):  # digits parse_number refused: beyond a float's range
        return f"{text!r} is too large to be a number here"
    if "%" in text:
        return (f"{text!r} is not a number or a percentage; write a number (0.875) or one "
                "with a single trailing % (87.5%)")
    return f"{text!r} is not a number"
