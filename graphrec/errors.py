"""Errors graphrec raises on purpose.

Each carries a message a user can act on: what went wrong, where, and how to fix it.
The CLI maps them to exit codes: 2 for input a user can correct, 1 for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass


class GraphrecError(Exception):
    """Base class; `exit_code` tells the CLI how to exit."""

    exit_code = 1


class UsageError(GraphrecError):
    """A bad argument, option, spec or query parameter."""

    exit_code = 2


class StoreError(GraphrecError):
    """The database refused a query or could not be reached."""


class ServerError(StoreError):
    """The embedded database server could not be started, reached or stopped."""


@dataclass(frozen=True)
class Problem:
    """One defect in an input file, located precisely enough to fix it."""

    file: str
    reason: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        col = f" column {self.column!r}:" if self.column is not None else ""
        return f"{where}:{col} {self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason}


class ValidationError(UsageError):
    """Input files failed validation; nothing was written."""

    def __init__(self, problems: list[Problem], *, shown: int = 20) -> None:
        self.problems = problems
        lines = [str(p) for p in problems[:shown]]
        if len(problems) > shown:
            lines.append(f"... and {len(problems) - shown} more problem(s)")
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"{len(problems)} {noun} found in the input; nothing was written:\n  "
            + "\n  ".join(lines)
        )
