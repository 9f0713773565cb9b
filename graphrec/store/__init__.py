"""Storage backends behind one interface: embedded FalkorDB (default), FalkorDB, Neo4j 5."""

from __future__ import annotations

from ..config import Target, resolve
from .base import UNIQUE_KEYS, Row, Store


def connect(db: str | Target | None = None, *, schema: bool = True) -> Store:
    """Open the database named by `db` (an address, a folder, or None for the default)."""
    target = db if isinstance(db, Target) else resolve(db)
    store: Store
    if target.kind == "neo4j":
        from .neo4j import Neo4jStore

        store = Neo4jStore(target)
    else:
        from .falkordb import FalkorStore

        store = FalkorStore(target)
    if schema:
        try:
            store.ensure_schema()
        except BaseException:
            store.close()
            raise
    return store


__all__ = ["UNIQUE_KEYS", "Row", "Store", "Target", "connect", "resolve"]
