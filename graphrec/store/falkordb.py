"""FalkorDB backend: a server by address, or the embedded one under the data folder."""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from falkordb.helpers import stringify_param_value

from ..config import Target, host_port
from ..errors import StoreError
from .admin import rewrite_log
from .base import (
    NOT_AN_ENTITY,
    RELATIONSHIP_INDEXES,
    UNIQUE_KEYS,
    Row,
    Statement,
    Store,
    node_form,
    plain,
    relationship_form,
)
from .compact import Unsupported, read_rows
from .embedded import EmbeddedServer
from .process import wait_gone
from .stall import StallWatch

LOCK_TTL_S = 60.0  # renewed while held (`_renewed`): a dead holder's lock expires
LOCK_WAIT_S = 600.0
RESTARTS = 2  # how often a read or the schema is sent again after a deadlock restart


class ServerRestarted(StoreError):
    """The embedded server deadlocked on a command and was started again; the command's
    work, if it was a write, is to be done again."""


class FalkorStore(Store):
    """Talks to one FalkorDB graph (a Redis key) through the official `falkordb` client."""

    backend = "falkordb"

    def __init__(self, target: Target) -> None:
        import redis
        from falkordb import FalkorDB

        self.target = target
        self._server: EmbeddedServer | None = None
        self._watch: StallWatch | None = None
        self._restart_lock = threading.Lock()
        try:
            if target.kind == "embedded":
                assert target.path is not None
                self._server = EmbeddedServer(target.path)
                socket, password = self._server.acquire()
                self._db = FalkorDB(unix_socket_path=socket, password=password)
                self._watch = self._server.watch()
            else:
                self._db = FalkorDB.from_url(_client_url(target))
            with self._waiting(self._watch):
                self._db.connection.ping()
        except redis.exceptions.AuthenticationError as exc:
            self.close()
            raise StoreError(f"FalkorDB at {target.safe_uri} refused the password") from exc
        except (redis.exceptions.RedisError, OSError) as exc:
            self.close()
            raise StoreError(f"cannot reach FalkorDB at {target.safe_uri}: {exc}") from exc
        self._graph = self._db.select_graph(target.graph)

    @property
    def location(self) -> str:
        return self.target.safe_uri

    @property
    def server_pid(self) -> int | None:
        """The embedded server's process id (None for a remote server)."""
        return self._server.pid if self._server else None

    def _run(self, query: str, params: Mapping[str, Any] | None = None, *,
             write: bool = False) -> list[Row]:
        if params:
            query = self.prepare(query, params).query
        for attempt in range(1, RESTARTS + 2):
            try:
                return self._send(query, write)
            except ServerRestarted:
                if write or attempt > RESTARTS:
                    raise
                # A read changes nothing: ask the new server.
        raise AssertionError("unreachable")

    def _send(self, query: str, write: bool) -> list[Row]:
        import redis

        doing = "during a write" if write else "during a read"
        try:
            if write:
                with self._write_lock(), self._watched(doing):
                    result = self._graph.query(query)
            else:
                try:  # graphrec's reads return values: the fast reader, else the client
                    with self._watched(doing):
                        return read_rows(self._db.connection.execute_command(
                            "GRAPH.RO_QUERY", self.target.graph, query, "--compact"))
                except Unsupported:
                    with self._watched(doing):
                        result = self._graph.ro_query(query)
        except redis.exceptions.LockError as exc:
            raise StoreError(
                f"another graphrec process kept the write lock of graph "
                f"{self.target.graph!r} for {LOCK_WAIT_S:.0f} s; try again when it is done"
            ) from exc
        except redis.exceptions.ResponseError as exc:
            if "empty key" in str(exc).lower():
                return []  # the graph does not exist yet: nothing to read
            raise StoreError(f"FalkorDB rejected the query: {exc}") from exc
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreError(
                f"lost the connection to FalkorDB at {self.location} ({exc}). Writes that "
                "completed are safe; run the command again to finish."
            ) from exc
        header = [col[1] if isinstance(col, list | tuple) else col for col in result.header]
        return [{str(h): plain(v, _entity) for h, v in zip(header, row, strict=True)}
                for row in result.result_set]

    @staticmethod
    def _waiting(watch: StallWatch | None):
        return watch.waiting() if watch is not None else contextlib.nullcontext()

    @contextlib.contextmanager
    def _watched(self, doing: str) -> Iterator[None]:
        """Around one round trip that may be sent again: watched for a deadlock, and a
        connection the watch ended becomes ServerRestarted once a server is up again (any
        other lost connection passes through)."""
        import redis

        watch = self._watch
        try:
            with self._waiting(watch):
                yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            if watch is None or not watch.fired:
                raise
            self._restart(watch)
            raise ServerRestarted(
                f"the database server at {self.location} deadlocked {doing} (no CPU for "
                f"{watch.stall_s:g} s) and was restarted. Writes that completed are safe; "
                "run the command again to finish."
            ) from exc

    def _restart(self, watch: StallWatch) -> None:
        """After `watch` killed a deadlocked server: a server and a connection again. A
        thread that finds another already did it has nothing to do."""
        from falkordb import FalkorDB

        assert self._server is not None
        with self._restart_lock:
            if self._watch is not watch:
                return
            watch.close()
            with contextlib.suppress(Exception):
                self._db.connection.close()
            wait_gone(watch.pid, 10)  # SIGKILL is sent; the process may take a moment to go
            socket, password = self._server.reattach()
            self._db = FalkorDB(unix_socket_path=socket, password=password)
            self._graph = self._db.select_graph(self.target.graph)
            self._watch = self._server.watch()
        warnings.warn(f"the database server deadlocked (no CPU for {watch.stall_s:g} s while "
                      "a command waited); graphrec killed it and started it again, "
                      "nothing committed was lost", stacklevel=4)

    def prepare(self, query: str, params: Mapping[str, Any] | None = None) -> Statement:
        """FalkorDB takes parameters as a `CYPHER name=value ...` header before the query;
        the client's own encoder writes the values, escaping strings."""
        if not params:
            return Statement(query, None)
        header = " ".join(f"{name}={stringify_param_value(value)}"
                          for name, value in params.items())
        return Statement(f"CYPHER {header} {query}", None)

    def _write_lock(self):
        """One graphrec writer at a time per graph.

        FalkorDB evaluates a query's MATCH part before it takes the graph's write lock, so two
        concurrent MERGEs of the same relationship can both create it. A lock around each
        write statement (a batch, well under a second) rules that out. For the embedded
        server it is a file lock, released the moment its holder dies; for a remote server a
        Redis lock, which expires by itself (after LOCK_TTL_S) if its holder dies.
        """
        if self._server is not None:
            return self._server.write_lock(LOCK_WAIT_S)
        return _renewed(self._db.connection.lock(  # shared token: the renewal is a thread
            f"graphrec:write-lock:{self.target.graph}", timeout=LOCK_TTL_S,
            blocking_timeout=LOCK_WAIT_S, thread_local=False))

    def graph_exists(self) -> bool:
        with self._waiting(self._watch):  # a deadlock here ends as a lost connection
            return bool(self._db.connection.exists(self.target.graph))

    def counts(self) -> dict[str, dict[str, int]]:
        """From FalkorDB's own statistics (`db.meta.stats`, kept as the graph changes):
        a millisecond where counting 2M relationships takes seconds."""
        rows = self.run("CALL db.meta.stats()")
        if not rows:  # the graph does not exist until its first write
            return {"nodes": {}, "relationships": {}}
        meta = rows[0]
        return {side: dict(sorted((k, int(v)) for k, v in meta[key].items() if v))
                for side, key in (("nodes", "labels"), ("relationships", "relTypes"))}

    def ensure_schema(self) -> None:
        for attempt in range(1, RESTARTS + 2):
            try:
                return self._ensure_schema()
            except ServerRestarted:
                if attempt > RESTARTS:
                    raise
                # Schema statements skip what exists: running them again is safe.

    def _ensure_schema(self) -> None:
        existing = {(row["label"], (prop,))  # one row per label, listing its properties
                    for row in self.run("CALL db.indexes() YIELD label, properties "
                                        "RETURN label, properties")
                    for prop in row["properties"]}
        for rel, key in RELATIONSHIP_INDEXES:
            if (rel, (key,)) not in existing:  # names come from the constant, never input
                self._tolerate_exists(lambda rel=rel, key=key: self.run(
                    f"CREATE INDEX FOR ()-[r:{rel}]-() ON (r.{key})", write=True))
        constraints = {(row["label"], tuple(row["properties"]))
                       for row in self.run("CALL db.constraints() YIELD label, properties "
                                           "RETURN label, properties")}
        created = False
        for label, key in UNIQUE_KEYS.items():
            # Labels cannot be parameters; they come from UNIQUE_KEYS, never from input.
            # Another process may create the same index at the same moment: "already
            # exists" answers are success.
            if (label, (key,)) not in existing:
                self._tolerate_exists(lambda label=label, key=key: self.run(
                    f"CREATE INDEX FOR (n:{label}) ON (n.{key})", write=True))
            if (label, (key,)) not in constraints:
                created |= self._tolerate_exists(
                    lambda label=label, key=key: self._constrain(label, key))
        if created and self._server is not None:
            # FalkorDB logs GRAPH.CONSTRAINT twice in the append-only file, and the replayed
            # duplicate fails loudly after a crash. Folding the log into a snapshot now
            # keeps schema commands out of every later replay.
            self._compact_log()

    def _constrain(self, label: str, key: str) -> None:
        with self._watched("creating a constraint"):
            self._db.connection.execute_command(
                "GRAPH.CONSTRAINT", "CREATE", self.target.graph, "UNIQUE", "NODE", label,
                "PROPERTIES", "1", key)

    @staticmethod
    def _tolerate_exists(action) -> bool:
        """Run a schema command; False if it was already there."""
        import redis

        try:
            action()
        except (StoreError, redis.exceptions.ResponseError) as exc:
            if "already" not in str(exc).lower():
                raise
            return False
        return True

    def _compact_log(self) -> None:
        import redis

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
                r["status"] != "OPERATIONAL" for r in self.run("CALL db.constraints()")):
            time.sleep(0.02)  # constraints build in the background, then log themselves
        try:
            rewrite_log(self._db.connection, max(0.0, deadline - time.monotonic()))
        except redis.exceptions.ResponseError as exc:
            raise StoreError(f"could not compact the database log: {exc}") from exc

    def close(self) -> None:
        if getattr(self, "_watch", None) is not None:
            self._watch.close()
        db = getattr(self, "_db", None)
        if db is not None:
            with contextlib.suppress(Exception):  # closing must not mask the real error
                db.connection.close()
            self._db = None
        if self._server is not None:
            server, self._server = self._server, None
            server.release()


@contextlib.contextmanager
def _renewed(lock: Any) -> Iterator[None]:
    """Hold a Redis lock for as long as the statement runs, however long: a thread
    extends it every third of its expiry, so it lapses only if this process dies (or stalls
    longer than LOCK_TTL_S). A lock found lapsed at release is no error of the write, which
    committed; it is said as a warning, naming what happened."""
    import redis

    if not lock.acquire():
        raise redis.exceptions.LockError("write lock busy")
    done = threading.Event()

    def renew() -> None:
        while not done.wait(LOCK_TTL_S / 3):
            with contextlib.suppress(redis.exceptions.RedisError):
                lock.reacquire()

    renewer = threading.Thread(target=renew, name="graphrec-lock-renewal", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()
        try:
            lock.release()
        except redis.exceptions.LockError:
            warnings.warn(f"graphrec's write lock lapsed while this process was stalled for "
                          f"over {LOCK_TTL_S:.0f} s; the write completed, but another writer "
                          "may have run at the same time: run the command again to be sure",
                          RuntimeWarning, stacklevel=3)


def _entity(value: Any) -> Any:
    """The client's Node, Edge and Path in the plain forms of `plain`."""
    from falkordb import Edge, Node, Path

    if isinstance(value, Node):
        return node_form(value.labels or [], value.properties or {})
    if isinstance(value, Edge):
        return relationship_form(value.relation, value.properties or {})
    if isinstance(value, Path):
        return {"nodes": [_entity(n) for n in value.nodes()],
                "relationships": [_entity(e) for e in value.edges()]}
    return NOT_AN_ENTITY


def _client_url(target: Target) -> str:
    """Rewrite the user's address into one the redis client understands."""
    uri = target.uri
    for alias, real in (("falkors://", "rediss://"), ("falkordb://", "redis://"),
                        ("falkor://", "redis://")):
        if uri.startswith(alias):
            uri = real + uri[len(alias):]
    # The path names the graph for us, but a database number for redis-py: drop it. The
    # password may have come in the query (?password=): it goes where redis-py reads it.
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(uri)
    if parts.scheme == "unix":
        return urlunsplit(parts)
    netloc = host_port(parts)
    if target.password is not None:
        netloc = f"{quote(target.user or '', safe='')}:{quote(target.password, safe='')}@{netloc}"
    elif target.user:
        netloc = f"{quote(target.user, safe='')}@{netloc}"
    return urlunsplit(parts._replace(netloc=netloc, path="", query=""))
