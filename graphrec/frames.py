"""pandas DataFrames on request: `as_frame=True` on the API's reads, as Neo4j's
`graphdatascience` client hands results.

Why on request and not always: rows as dicts are what JSON, the CLI and `serve` need, and
pandas costs a second of import that a CLI command should not pay unless asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["counts_frame", "rows_frame"]


def rows_frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None
               ) -> pd.DataFrame:
    """`rows` as a DataFrame, one column per key (in the first row's order), one row per
    row. `columns` names the columns of an empty result, which no row can tell."""
    import pandas as pd

    if not rows:
        return pd.DataFrame(columns=list(columns or []))
    return pd.DataFrame.from_records(list(rows))


def counts_frame(counts: Mapping[str, Mapping[str, int]]) -> pd.DataFrame:
    """`stats()` ({"nodes": {label: n}, "relationships": {type: n}}) as a long table with
    columns kind ("node" | "relationship"), name and count."""
    rows = [{"kind": kind.removesuffix("s"),
             "name": name, "count": int(n)}
            for kind, by_name in counts.items() for name, n in sorted(by_name.items())]
    return rows_frame(rows, ["kind", "name", "count"])
