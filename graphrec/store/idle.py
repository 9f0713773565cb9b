"""The watchdog that stops an idle embedded server: `python -m graphrec.store.idle HOME`.

Why a process of its own: the server must outlive the command that started it (starting
and loading a big graph costs seconds), yet not run forever. The watchdog polls the users'
lock; once nobody has held it for the server's `idle` seconds (read from its state file on
every poll, so `graphrec db start --idle` can change it), it stops the server the way the
last user used to: log folded into a snapshot, then SHUTDOWN. It exits when the server it
watches is gone, whoever stopped it. Commands shorter than a poll are not missed: every
user touches the lock file when it starts and stops, and idle time counts from then.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .embedded import EmbeddedServer

POLL_S = 2.0


def watch(home: Path) -> None:
    server = EmbeddedServer(home)
    state = server.live_state()
    if not state:
        return
    pid = int(state["pid"])
    seen = time.time()
    while True:
        time.sleep(min(POLL_S, max(0.2, float(state.get("idle", 0)) / 4)))
        state = server.live_state()
        if not state or int(state["pid"]) != pid:
            return  # stopped (or replaced) by someone else
        idle = float(state.get("idle", 0))
        if idle <= 0:
            return  # the last user stops it now
        if server.in_use():
            seen = time.time()
        elif server.stop_if_idle(idle, seen):
            return


if __name__ == "__main__":
    watch(Path(sys.argv[1]))
