"""Storage backends behind one interface: embedded FalkorDB (default), FalkorDB, Neo4j 5."""

from __future__ import annotations

from ..config import Target, resolve
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

        store = FalkorStore(target)
    # The schema is made (after checking what is there) before the first write, not here:
    # a user who may only read can still query a database an administrator set up.
    store.schema_pending = schema
    if schema and not store.graph_exists():
        try:  # a FalkorDB graph exists from its first write: make it so reads answer
            store.run(SCHEMA_PROBE, write=True)
        except BaseException:
            store.close()
            raise
    return store


__all__ = ["UNIQUE_KEYS", "Row", "Store", "Target", "connect", "resolve"]
