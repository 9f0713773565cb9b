"""Notice a deadlocked embedded server while a command waits on it, and end it.

Why: FalkorDB 4.16 can deadlock on a command (seen once in CI, on a CREATE INDEX sent to
a freshly started server). Every thread then waits on a futex, no CPU is used, and no
answer comes. FalkorDB issue #2129 reports the same picture under write load on 4.18.9
(open, not reproduced upstream): a newer wheel is not known to cure it. The client has no
timeout of its own, since a long query is no error, so the command would wait for good.

While a command is outstanding, a thread looks at the server once a second. A server
that has used under MIN_CPU_S of CPU for `stall_s` seconds, with no thread running or
waiting on the disk at any look, is deadlocked. It is killed with SIGKILL (a deadlocked
server ignores SIGTERM). Every committed write is in its append-only log (fsync always),
so the caller can start it again and lose nothing. This works only where /proc shows CPU
time (Linux).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator

from .process import busy, cpu_seconds, listens_on, wait_gone

#: Less CPU than this in the whole quiet spell is none: an idle server's housekeeping.
MIN_CPU_S = 0.05


class StallWatch:
    """Watches one server process for as long as commands are outstanding on it. `socket`
    is where it listens: a pid that no longer names it in its title (the server gone, its
    pid reused) is never killed."""

    def __init__(self, pid: int, stall_s: float, socket: str) -> None:
        self.pid = pid
        self.stall_s = stall_s
        self.socket = socket
        self.fired = False
        self._lock = threading.Lock()
        self._waiting = 0
        self._since = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Around one round trip to the server: the watch looks only while one is open."""
        with self._lock:
            if self._waiting == 0:
                self._since = time.monotonic()
            self._waiting += 1
            if self._thread is None and cpu_seconds(self.pid) is not None:
                self._thread = threading.Thread(target=self._watch, daemon=True,
                                                name=f"graphrec-stall-watch-{self.pid}")
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._waiting -= 1

    def close(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        poll = min(1.0, self.stall_s / 4)
        quiet: tuple[float, float] | None = None  # (since when, CPU seconds then)
        while not self._stop.wait(poll):
            with self._lock:
                since = self._since if self._waiting else None
            if since is None:
                quiet = None
                continue
            cpu = cpu_seconds(self.pid)
            if cpu is None:
                return  # gone: the caller sees its connection drop
            now = time.monotonic()
            if quiet is None or _working(self.pid, cpu, quiet[1]):
                quiet = (now, cpu)
            elif now - max(quiet[0], since) >= self.stall_s:
                if listens_on(self.pid, self.socket):
                    self.fired = True
                    with contextlib.suppress(OSError):
                        os.kill(self.pid, signal.SIGKILL)
                return


def deadlocked(pid: int, seconds: float) -> bool:
    """Whether `pid`, looked at for `seconds`, never ran and used under MIN_CPU_S of CPU:
    for a server found not answering, with no command of ours to watch. False at once
    where /proc cannot tell, or once the process is gone."""
    start = cpu_seconds(pid)
    if start is None:
        return False
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cpu = cpu_seconds(pid)
        if cpu is None or _working(pid, cpu, start):
            return False
        time.sleep(min(0.25, seconds / 4))
    return True


def _working(pid: int, cpu: float, base: float) -> bool:
    """Whether `pid`, at `cpu` CPU seconds against `base` when its quiet spell began, shows
    work: a thread running or waiting on the disk, or MIN_CPU_S of CPU used since."""
    return busy(pid) or cpu - base >= MIN_CPU_S


def end_if_deadlocked(pid: int, socket: str, seconds: float) -> bool:
    """Kill `pid` if it is the server on `socket` (its process title says so: only ours is
    killed without asking) and it is `deadlocked` for `seconds`. It then ignores SIGTERM
    and SHUTDOWN alike, and its log holds every committed write. Whether it was killed."""
    if not (listens_on(pid, socket) and deadlocked(pid, seconds)):
        return False
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    wait_gone(pid, 10)
    return True
