"""`graphrec db start|stop|status`: the embedded database's server, by hand.

Commands start the server themselves and it stops by itself when idle, so these are for
the times a user wants a say: start it ahead of a burst of commands (with a longer idle
time), stop it now (to copy the folder, or free its memory), or see what it holds.
"""

from __future__ import annotations

from typing import Any

from .config import Target, resolve
from .errors import UsageError
from .store.embedded import EmbeddedServer, idle_seconds


def _embedded(db: str | Target | None) -> EmbeddedServer:
    target = db if isinstance(db, Target) else resolve(db)
    if target.kind != "embedded" or target.path is None:
        raise UsageError(f"{target.safe_uri} is a server graphrec does not run; `graphrec db` "
                         "starts and stops the embedded database only (a folder --db)")
    return EmbeddedServer(target.path)


def start(db: str | Target | None = None, idle: float | None = None) -> dict[str, Any]:
    """Start the server (or keep the running one) with `idle` seconds of idle time."""
    server = _embedded(db)
    idle = idle_seconds() if idle is None else float(idle)
    if not idle > 0:
        raise UsageError("an idle time of 0 stops the server with its last user, so it would "
                         "stop at once; give --idle SECONDS (or set GRAPHREC_SERVER_IDLE)")
    server.acquire(idle)
    try:
        return status(db) or {}
    finally:
        server.release()


def stop(db: str | Target | None = None, *, force: bool = False) -> bool:
    """Stop the server now (after folding its log into a snapshot); False if none ran."""
    return _embedded(db).stop(force=force)


def status(db: str | Target | None = None) -> dict[str, Any] | None:
    """The running server's pid, idle time, uptime, memory and log size (None: stopped)."""
    server = _embedded(db)
    info = server.info() if server.dir.is_dir() else None
    if info is not None:
        info["folder"] = str(server.home)
    return info
