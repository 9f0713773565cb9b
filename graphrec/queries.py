"""Named Cypher queries: the `.cypher` files under `cypher/`, with their declared parameters.

Every query the product runs lives in a file that a user can also paste into Neo4j Browser.
A file starts with comment lines: the first says what it answers, then one `@param` line per
parameter, e.g.::

    // top-models: the best models for a dataset, by observed accuracy.
    // @param dataset string  the dataset's name
    // @param k int = 5  how many models to return

Values always travel as parameters, never formatted into query text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .checks import is_integer
from .errors import UsageError
from .names import INT64, close_names
from .resources import resource_dir

_PARAM = re.compile(
    r"^//\s*@param\s+(?P<name>[A-Za-z_]\w*)\s+(?P<type>string|int|float|bool|list|map)\b"
    r"(?:\s*=\s*(?P<default>\S+))?\s*(?P<doc>.*)$"
)
_TYPES = {"string": str, "int": int, "float": float}


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    required: bool
    doc: str


@dataclass(frozen=True)
class Query:
    """One `.cypher` file. `name` is its path under `cypher/` without the suffix."""

    name: str
    path: Path
    text: str
    description: str
    params: tuple[Param, ...]

    @property
    def writes(self) -> bool:
        """Whether the query changes the graph (run it with write=True)."""
        body = "\n".join(line for line in self.text.splitlines()
                         if not line.strip().startswith("//"))
        return bool(re.search(r"(?i)\b(CREATE|MERGE|SET|DELETE|REMOVE)\b", body))

    @property
    def _limits(self) -> set[str]:
        """Parameters used as LIMIT or SKIP counts, which must not be negative."""
        return set(re.findall(r"(?i)\b(?:LIMIT|SKIP)\s+\$(\w+)", self.text))

    @property
    def short_name(self) -> str:
        return self.name.removeprefix("queries/")

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        """Check `given` against the declared parameters, convert text values, add defaults."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise UsageError(
                f"query {self.short_name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"it takes: {self.signature() or 'no parameters'}"
            )
        bound: dict[str, Any] = {}
        for p in self.params:
            if p.name in given:
                bound[p.name] = _convert(self.short_name, p, given[p.name])
                value = bound[p.name]
                if p.name in self._limits:
                    check_count(value, f"query {self.short_name!r}: {p.name}", low=0)
                elif isinstance(value, int) and value not in INT64:
                    raise UsageError(f"query {self.short_name!r}: {p.name} {value} is beyond "
                                     "the 64-bit whole numbers the databases take")
            elif p.required:
                raise UsageError(
                    f"query {self.short_name!r} needs --param {p.name}=VALUE ({p.type}: {p.doc})"
                )
            else:
                bound[p.name] = p.default
        return bound

    def signature(self) -> str:
        parts = []
        for p in self.params:
            parts.append(f"{p.name}:{p.type}" + ("" if p.required else f"={p.default}"))
        return ", ".join(parts)


#: The most rows a LIMIT may ask for: FalkorDB reads a LIMIT as 32 bits (4294967296 would
#: wrap round to 0), so larger counts are refused rather than answered wrongly.
MAX_ROWS = 2**31 - 1


def check_count(value: Any, what: str, *, low: int = 1) -> int:
    """`value` as a row count between `low` and MAX_ROWS, else UsageError."""
    if not is_integer(value):
        raise UsageError(f"{what} must be a whole number, got {value!r}")
    if value < low:
        raise UsageError(f"{what} must be {low} or more, got {value}")
    if value > MAX_ROWS:
        raise UsageError(f"{what} must be at most {MAX_ROWS:,} (the most rows a query "
                         f"returns), got {value:,}")
    return int(value)


def _convert(query: str, p: Param, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if p.type == "bool":
            low = value.strip().lower()
            if low in ("true", "1", "yes"):
                return True
            if low in ("false", "0", "no"):
                return False
            raise ValueError(value)
        if p.type == "list":
            return [v.strip() for v in value.split(",") if v.strip()]
        if p.type == "map":
            raise ValueError(value)
        return _TYPES[p.type](value)
    except ValueError:
        raise UsageError(
            f"query {query!r}: parameter {p.name} must be {p.type}, got {value!r}"
        ) from None


def parse(name: str, path: Path) -> Query:
    text = path.read_text(encoding="utf-8")
    description, params = "", []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("//"):
            break
        m = _PARAM.match(stripped)
        if m is None and "@param" in stripped:
            raise ValueError(f"{path}: malformed parameter line {stripped!r}; write "
                             "`// @param NAME TYPE [= DEFAULT]  what it is`, TYPE one of "
                             "string, int, float, bool, list, map")
        if m:
            default_text = m.group("default")
            p = Param(m.group("name"), m.group("type"), None, default_text is None,
                      m.group("doc").strip())
            if default_text is not None:
                default = None if default_text == "null" else _convert(name, p, default_text)
                p = Param(p.name, p.type, default, False, p.doc)
            params.append(p)
        elif not description:
            description = stripped.lstrip("/").strip()
            if ":" in description.split(" ", 1)[0]:
                description = description.split(":", 1)[1].strip()
    return Query(name, path, text, description, tuple(params))


@cache
def _all() -> dict[str, Query]:
    root = resource_dir("cypher")
    return {
        p.relative_to(root).with_suffix("").as_posix(): parse(
            p.relative_to(root).with_suffix("").as_posix(), p)
        for p in sorted(root.rglob("*.cypher"))
    }


def get(name: str) -> Query:
    """The query `name`: e.g. "top-models" (a user query) or "ingest/upsert-models"."""
    queries = _all()
    for key in (name, f"queries/{name}"):
        if key in queries:
            return queries[key]
    close = close_names(name, [q.split("/")[-1] for q in user_queries()])
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UsageError(f"no query named {name!r}.{hint} `graphrec query --list` shows them all.")


def user_queries() -> dict[str, Query]:
    """The queries meant for people: the files in `cypher/queries/`, by short name."""
    return {k.split("/", 1)[1]: q for k, q in _all().items() if k.startswith("queries/")}


def user_query(name: str) -> Query:
    """The user query `name` (a file in `cypher/queries/`). graphrec's internal queries (the
    files outside it: ingest, predict, admin) are refused by name: they are run by graphrec
    itself, with parameters it builds, and some write."""
    q = get(name)
    if not q.name.startswith("queries/"):
        raise UsageError(
            f"{name!r} is not a user query: it is one of the queries graphrec runs itself "
            f"(cypher/{q.name}.cypher). User queries are the files in cypher/queries/; "
            f"`graphrec query --list` shows them ({', '.join(user_queries())}). "
            "`graphrec query NAME --show` prints any query's Cypher.")
    return q
