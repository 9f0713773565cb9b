"""Storage backends behind one interface: embedded FalkorDB (default), FalkorDB, Neo4j 5."""

from __future__ import annotations

from ..config import Target, resolve
from ..errors import StoreError
from .base import UNIQUE_KEYS, Row, Store

#: A write that changes nothing: it makes the schema (and with it the graph) exist.
SCHEMA_PROBE = "RETURN 1 AS ready"


def connect(db: str | Target | None = None, *, schema: bool = True) -> Store:
    """Open the database named by `db` (an address, a folder, or None for the default).
    `schema=False` skips the schema check before the first write (a worker whose parent
    made it)."""
    target = db if isinstance(db, Target) else resolve(db)
    store: Store
    if target.kind == "neo4j":
        from .neo4j import Neo4jStore

        store = Neo4jStore(target)
    else:
        from .falkordb import FalkorStore

        try:
            store = FalkorStore(target)
        except StoreError as exc:
            raise explained(target, exc) from exc
    # The schema is made (after checking what is there) before the first write, not here:
    # a user who may only read can still query a database an administrator set up.
    store.schema_pending = schema
    try:
        if schema and not store.graph_exists():
            # A FalkorDB graph exists from its first write: make it so reads answer.
            store.run(SCHEMA_PROBE, write=True)
    except BaseException as exc:
        error = _setup_error(target, exc)
        store.close()
        if error is None:
            raise
        raise error from exc
    return store


def _setup_error(target: Target, exc: BaseException) -> StoreError | None:
    """A clear StoreError for a failure while a new database is set up (the server killed
    meanwhile, say), with the server's account; None to let `exc` through as it is."""
    if isinstance(exc, StoreError):
        return explained(target, exc)
    if target.kind == "neo4j":
        return None
    import redis

    if not isinstance(exc, redis.exceptions.RedisError | OSError):
        return None
    return explained(target, StoreError(
        f"lost the connection to FalkorDB at {target.safe_uri} while setting up the database "
        f"({exc}); run the command again: the set-up resumes where it stopped"))


def explained(target: Target, exc: StoreError) -> StoreError:
    """`exc` with the embedded server's own account of a crash or a refused write added
    (see `EmbeddedServer.explain`); `exc` itself where there is nothing to add."""
    if target.kind != "embedded" or target.path is None or getattr(exc, "explained", False):
        return exc
    from .embedded import EmbeddedServer

    extra = EmbeddedServer(target.path).explain(str(exc))
    error = type(exc)(f"{exc}\n{extra}") if extra else exc
    error.explained = True  # type: ignore[attr-defined]
    return error


__all__ = ["UNIQUE_KEYS", "Row", "Store", "Target", "connect", "explained", "resolve"]
