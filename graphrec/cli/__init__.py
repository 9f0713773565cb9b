"""The `graphrec` command: a thin layer over the Python API (`graphrec.api`).

Tables for people, `--json` for scripts, progress bars on stderr for long work (not under
`--json`). Errors print what went wrong, where, and how to fix it; exit code 2 means "fix
the input", 1 "something else failed". Under `--json` every error is the JSON error object
on stdout and stderr carries nothing but warnings as JSON lines.

- `output`: JSON, tables, the error handler and the group that keeps `--json` JSON;
- `group`: the `graphrec` group, its Context and the options commands share;
- `data`: ingest, score, synth, stats, info, query;
- `learning`: train, predict, status, predictors list|use|drop;
- `decisions`: recommend, explain, suggest, plot;
- `operations`: db, benchmark, demo, serve.
"""

from __future__ import annotations

from . import data, decisions, learning, operations
from .group import Context, main, pass_ctx
from .output import JsonErrorsGroup, emit_json, format_table, handle_errors

__all__ = ["Context", "JsonErrorsGroup", "data", "decisions", "emit_json", "format_table",
           "handle_errors", "learning", "main", "operations", "pass_ctx"]
