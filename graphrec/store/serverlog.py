"""The embedded server's own account of a failure, from its log, for error messages.

Why: when the server dies (a crash, a kill) or refuses a write (a full disk), the client
only sees a closed connection or a terse reply; the cause is in `falkordb/server.log`. An
error that quotes the telling lines of the server's last run says what happened, so the
user need not go looking.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["REFUSED_WRITE", "account", "telling_lines"]

#: How much of the end of the log is read: a crash report is a few hundred lines.
TAIL_BYTES = 1 << 20
SHOWN = 6
#: A redis log line: "PID:ROLE DD Mon YYYY HH:MM:SS.mmm LEVEL message"; '#' is a warning.
_LINE = re.compile(r"^\d+:[A-Z] (?P<when>\d{1,2} \w{3} \d{4} [\d:.]+) (?P<level>[.\-*#]) "
                   r"(?P<message>.*)$")
_START = "Redis is starting"
_TELLING = re.compile(r"crash|signal|No space|MISCONF|Can't|Cannot|Error|Killed|OOM|out of "
                      r"memory|Exiting|corrupt|Bad file|Short read|Unrecoverable|Fatal|failed",
                      re.IGNORECASE)
_WORDS = re.compile(r"\b[A-Za-z]{3,}\b")
#: Replies that mean the server refused a write for a reason its log explains.
REFUSED_WRITE = re.compile(r"MISCONF|No space|OOM|READONLY|Can't save|disk", re.IGNORECASE)


def telling_lines(log: Path) -> list[str]:
    """The telling lines of the server's last run (since its last start), each once, as
    'time message': errors and crash lines first, then its other warnings, in log order."""
    try:
        with log.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - TAIL_BYTES))
            text = fh.read().decode(errors="replace")
    except OSError:
        return []
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _START in line]
    run = lines[starts[-1] + 1:] if starts else lines
    telling: dict[str, str] = {}
    warnings: dict[str, str] = {}
    for line in run:
        m = _LINE.match(line)
        if not m or not _WORDS.search(m["message"]):  # a crash report's blanks, hex dumps
            continue
        shown = f"{m['when']} {m['message']}"
        if _TELLING.search(m["message"]):
            telling.setdefault(m["message"], shown)
        elif m["level"] == "#":
            warnings.setdefault(m["message"], shown)
    return [*telling.values(), *warnings.values()]


def account(log: Path, pid: int | None, alive: bool) -> str:
    """What to add to an error about the server: whether it still runs, and what its log
    says of its last run ('' when it runs and its log has nothing to tell)."""
    lines = telling_lines(log)
    who = f"The database server (pid {pid})" if pid else "The database server"
    if alive and not lines:
        return ""
    head = f"{who} has stopped. " if not alive else ""
    if not lines:
        return (f"{head}Its log ({log}) says nothing of why: it was killed (SIGKILL), by "
                "hand or by the system when memory ran out (see dmesg). Run the command "
                "again: a new server starts, and committed writes are safe.")
    shown = "\n  ".join(lines[:SHOWN])
    more = (f"\n  ... and {len(lines) - SHOWN} more line(s) in the log"
            if len(lines) > SHOWN else "")
    after = (" Free disk space if it is full, then run the command again: committed writes "
             "are safe." if any(re.search(r"No space|MISCONF|Can't|write", line, re.I)
                                for line in lines) else
             " Run the command again: a new server starts, and committed writes are safe."
             if not alive else "")
    return f"{head}Its log ({log}) says:\n  {shown}{more}\n{after.strip()}".rstrip()
