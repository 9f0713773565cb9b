"""The one rule for names (of models, datasets, domains, labels, families, metrics).

Surrounding whitespace is not part of a name: the CSV reader, the CLI, the Python API and
`graphrec serve` all strip it, so `"newds "` is `newds` everywhere. Inside, a name is kept
exactly (quotes, backticks, Cypher keywords, non-ASCII text). What is refused, before
anything is written: an empty name, control characters (a tab inside is kept), text
that is not valid UTF-8 (a shell argument in another encoding), and names over
`MAX_NAME_BYTES`. FalkorDB's unique index crashes the server on a key with leading or
trailing whitespace or over 4,096 bytes, so these checks guard the database as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import UsageError

#: The longest name, in UTF-8 bytes: FalkorDB's index takes up to 4,096.
MAX_NAME_BYTES = 4096

#: The whole numbers both databases store (64-bit): `n in INT64`.
INT64 = range(-2**63, 2**63)

# Control characters but the tab: a NUL cuts FalkorDB's query text short, \x01 in an
# indexed key crashes its server, and a newline breaks every table graphrec prints.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def name_problem(name: Any) -> str | None:
    """What is wrong with `name` as stored (already stripped), or None."""
    if not isinstance(name, str):
        return f"a name must be text, not {type(name).__name__}"
    if not name:
        return "the name is empty"
    if name != name.strip():
        return "the name has leading or trailing whitespace"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return ("the name is not valid UTF-8 text (was it typed in another encoding? set "
                "a UTF-8 locale, e.g. LANG=C.UTF-8)")
    if size > MAX_NAME_BYTES:
        return (f"the name is {size:,} bytes long; names are at most {MAX_NAME_BYTES:,} "
                "bytes (UTF-8)")
    control = _CONTROL.search(name)
    if control:
        return (f"the name holds a control character ({control.group()!r}); names are one "
                "line of text")
    return None


def clean_name(value: Any, what: str) -> str:
    """`value` stripped, or UsageError saying what is wrong with this `what` (e.g.
    "dataset") and how to fix it."""
    text = value.strip() if isinstance(value, str) else value
    problem = name_problem(text)
    if problem:
        raise UsageError(f"{what} {shown_name(value)}: {problem}")
    return text


def clean_names(values: Iterable[Any], what: str) -> list[str]:
    """`clean_name` for each value, duplicates dropped, order kept."""
    return list(dict.fromkeys(clean_name(v, what) for v in values))


def shown_name(value: Any) -> str:
    """A name as a message shows it: quoted, escapes for what a terminal would not show,
    long ones cut."""
    text = ascii(value) if isinstance(value, str) and any(
        "\udc80" <= c <= "\udcff" for c in value) else repr(value)
    if len(text) <= 80:
        return text
    return text[:60] + f"... ({len(value) if isinstance(value, str) else len(text):,} characters)"


def close_names(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6
                ) -> list[str]:
    """Up to `n` of `candidates` that `name` looks like a misspelling of, closest first:
    the hint every "no such name" error gives (`--domain sketchh` most likely meant
    `sketch`). One similarity cutoff for all of them, difflib's 0.6, unless a caller with
    many short candidates (labels) needs a stricter one."""
    import difflib

    return difflib.get_close_matches(str(name), list(candidates), n=n, cutoff=cutoff)
