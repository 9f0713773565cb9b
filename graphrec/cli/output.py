"""What the commands print: JSON, tables, errors and warnings.

Under `--json` every byte a command writes is JSON: the answer (or the error object) on
stdout, and on stderr nothing but warnings, one JSON object a line. Without it, errors and
warnings are `error: ...` / `warning: ...` lines on stderr. Exit code 2 means "fix the
input", 1 "something else failed", 130 "interrupted".
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from ..errors import GraphrecError, ValidationError

INTERRUPTED = ("interrupted; batches already written are committed, run the command again "
               "to finish")


def emit_json(data: Any) -> None:
    """The command's answer (or its error object) on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def emit_error(message: str, problems: Sequence[dict[str, Any]] = ()) -> None:
    """The one shape of every error under --json: a message and the located problems."""
    emit_json({"error": message, "problems": list(problems)})


def emit_warning(message: Warning | str, *, as_json: bool) -> None:
    """A warning on stderr: one JSON line under --json, `warning: ...` otherwise."""
    if as_json:
        category = type(message).__name__ if isinstance(message, Warning) else "UserWarning"
        click.echo(json.dumps({"warning": str(message), "category": category},
                              ensure_ascii=False), err=True)
    else:
        click.echo(f"warning: {message}", err=True)


def _json_showwarning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
    """`warnings.showwarning` under --json: the warning as a JSON line, not Python's text."""
    text = str(message)
    click.echo(json.dumps({"warning": text, "category": category.__name__},
                          ensure_ascii=False), err=True)


@contextlib.contextmanager
def _no_library_progress() -> Iterator[None]:
    """Under --json, no progress bars from the libraries graphrec calls either: the
    sentence encoder of --text-features (transformers) draws one while loading weights."""
    loaded = sys.modules.get("transformers.utils.logging")
    if loaded is not None:  # imported already: its switch, put back afterwards
        was = loaded.is_progress_bar_enabled()
        loaded.disable_progress_bar()
        try:
            yield
        finally:
            if was:
                loaded.enable_progress_bar()
        return
    unset = "HF_HUB_DISABLE_PROGRESS_BARS" not in os.environ  # read when transformers loads
    if unset:
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    try:
        yield
    finally:
        if unset:
            os.environ.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)


def handle_errors(fn: Callable) -> Callable:
    """Turn graphrec errors into a message and an exit code (only the JSON error object,
    on stdout, under --json)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except GraphrecError as exc:
            if as_json:
                problems = exc.problems if isinstance(exc, ValidationError) else []
                emit_error(str(exc).split("\n", 1)[0] if problems else str(exc),
                           [p.as_dict() for p in problems])
            else:
                click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            if as_json:
                emit_error(INTERRUPTED)
            else:
                click.echo(INTERRUPTED, err=True)
            sys.exit(130)

    return wrapper


class JsonErrorsGroup(click.Group):
    """With --json anywhere in the arguments, Click's own errors (a bad option value, an
    unknown option or command, a missing argument, in any group) come as the JSON error
    object too, not usage text, and so do Ctrl+C and unexpected failures; warnings come as
    JSON lines on stderr. A script that asked for JSON gets JSON whatever went wrong. Exit
    codes as without --json."""

    def main(self, args: Sequence[str] | None = None, *pos: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if "--json" not in argv or kwargs.get("standalone_mode") is False:
            return super().main(argv, *pos, **kwargs)
        kwargs["standalone_mode"] = False
        with warnings.catch_warnings(), _no_library_progress():
            warnings.showwarning = _json_showwarning
            try:
                rv = super().main(argv, *pos, **kwargs)
            except click.ClickException as exc:
                message = exc.format_message()
                if isinstance(exc, click.UsageError) and exc.ctx is not None:
                    message += f" (see {exc.ctx.command_path} --help)"
                emit_error(message)
                sys.exit(exc.exit_code)
            except click.Abort:  # Ctrl+C outside a command's own handling, as Click says it
                emit_error("aborted")
                sys.exit(1)
            except Exception as exc:  # a bug: still JSON, and how to see the traceback
                emit_error(f"unexpected {type(exc).__name__}: {exc} (run the command without "
                           "--json for the traceback)")
                sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)  # --help, --version: Click's exit code


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain aligned table; floats with 4 decimals, lists joined."""
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0].keys())

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        if isinstance(v, list):
            text = ", ".join(map(str, v))
            return text if len(text) <= 60 else text[:57] + "..."
        if isinstance(v, dict):
            return json.dumps(v, ensure_ascii=False, default=str)
        return "" if v is None else str(v)

    body = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(cols)]
    numeric = [all(isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool)
                   for r in rows if r.get(c) is not None) for c in cols]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(b) for b in body]
    return "\n".join(out)
