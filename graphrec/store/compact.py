"""A fast reader of FalkorDB's compact result sets, for read queries that return values.

Why: the `falkordb` client parses every value of a reply through a chain of Python calls,
and that, not the database, is most of the time of reading a million edges (measured in
`benchmarks/bench_scale.py`). graphrec's reads return scalars, lists and maps only, so this
reader handles those types with a few inlined cases and answers `None` on anything else
(nodes, edges, paths, points, temporal values), where the caller falls back on the client,
which resolves label and property ids.
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import ResponseError

__all__ = ["Unsupported", "read_rows"]

_NULL, _STRING, _INTEGER, _BOOLEAN, _DOUBLE, _ARRAY, _MAP = 1, 2, 3, 4, 5, 6, 10


class Unsupported(Exception):
    """A value type this reader leaves to the client."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _value(cell: list) -> Any:
    kind, value = cell
    if kind == _STRING:
        return value.decode() if isinstance(value, bytes) else value
    if kind == _INTEGER:
        return int(value)
    if kind == _DOUBLE:
        return float(value)
    if kind == _NULL:
        return None
    if kind == _BOOLEAN:
        return _text(value) == "true"
    if kind == _ARRAY:
        return _array(value)
    if kind == _MAP:
        return {_text(value[i]): _value(value[i + 1]) for i in range(0, len(value), 2)}
    raise Unsupported(kind)


def _array(items: list) -> list:
    """Lists of one scalar type (the common case: ids, accuracies, names) in one pass."""
    if not items:
        return []
    kind = items[0][0]
    if all(c[0] == kind for c in items):
        if kind == _DOUBLE:
            return [float(c[1]) for c in items]
        if kind == _INTEGER:
            return [int(c[1]) for c in items]
        if kind == _STRING and not isinstance(items[0][1], bytes):
            return [c[1] for c in items]
    return [_value(c) for c in items]


def read_rows(reply: list) -> list[dict[str, Any]]:
    """Rows of a `GRAPH.RO_QUERY ... --compact` reply as dicts; raises the server's error,
    or `Unsupported` for value types left to the client."""
    if reply and isinstance(reply[0], ResponseError):
        raise reply[0]
    if reply and isinstance(reply[-1], ResponseError):
        raise reply[-1]
    if len(reply) < 3:
        return []
    names = [_text(column[1]) for column in reply[0]]
    rows = []
    for record in reply[1]:
        rows.append({name: _value(cell) for name, cell in zip(names, record, strict=True)})
    return rows
