"""The one interface every storage backend implements.

Everything above the store speaks Cypher text (from `cypher/`) plus a parameter map, and gets
back plain Python rows: dicts of str, int, float, bool, None, lists and dicts. Backend types
(nodes, records, OrderedDicts) never leak upward, so the same code runs on FalkorDB and Neo4j.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Target, default_home

Row = dict[str, Any]

#: Labels whose `name` must be unique, and the property that identifies them.
UNIQUE_KEYS: dict[str, str] = {
    "Model": "name",
    "Dataset": "name",
    "Family": "name",
    "PretrainDataset": "name",
    "Domain": "name",
    "Label": "name",
    "Predictor": "id",
}

#: Relationship properties that are indexed, as (type, property): a predictor's predictions
#: are found (counted, replaced, dropped) by `PREDICTED.predictor`, proxy scores by
#: `SCORED.metric`, and `status` asks for the inputs written since training read the graph
#: by `updated_at` (a range lookup, not a scan of every edge).
RELATIONSHIP_INDEXES: tuple[tuple[str, str], ...] = (
    ("PREDICTED", "predictor"),
    ("SCORED", "metric"),
    ("SCORED", "updated_at"),
    ("TRANSFERS_TO", "updated_at"),
)


@dataclass(frozen=True)
class Statement:
    """A query with its parameters, made ready to send by `Store.prepare`."""

    query: str
    params: dict[str, Any] | None  # None: the parameters are already part of `query`


class Store(ABC):
    """A graph database session.

    Use as a context manager, or call `close()`; closing the embedded store releases the
    private server (stopping it when no other graphrec process still uses it).
    """

    #: "falkordb" or "neo4j": only schema statements may differ between them.
    backend: str = ""
    #: The parsed address this store was opened with.
    target: Target

    @property
    def data_dir(self) -> Path:
        """Where graphrec keeps files that belong with this database (predictor
        checkpoints): inside an embedded database's folder, else under GRAPHREC_HOME."""
        if self.target.kind == "embedded" and self.target.path is not None:
            return self.target.path
        import hashlib

        digest = hashlib.sha1(self.target.safe_uri.encode()).hexdigest()[:12]
        return default_home() / "remote" / digest

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data lives, safe to print: never contains credentials."""

    #: Whether the schema is still to be checked before this store's first write: set by
    #: `connect`. Reading never touches the schema, so read-only users can query.
    schema_pending: bool = False
    _schema_lock = threading.Lock()

    def run(self, query: str, params: Mapping[str, Any] | None = None, *,
            write: bool = False) -> list[Row]:
        """Run one Cypher statement atomically and return its rows."""
        if write and self.schema_pending:
            with self._schema_lock:
                if self.schema_pending:
                    self.schema_pending = False
                    try:
                        self.ensure_schema()
                    except BaseException:
                        self.schema_pending = True
                        raise
        return self._run(query, params, write=write)

    @abstractmethod
    def _run(self, query: str, params: Mapping[str, Any] | None, *,
             write: bool) -> list[Row]:
        """The backend's `run`, schema aside."""

    def prepare(self, query: str, params: Mapping[str, Any] | None = None) -> Statement:
        """Do a statement's client-side work now (FalkorDB: writing the parameters into the
        text), so that a writer thread only has the round trip left to do."""
        return Statement(query, dict(params or {}))

    def execute(self, statement: Statement, *, write: bool = False) -> list[Row]:
        """Run a prepared statement."""
        return self.run(statement.query, statement.params, write=write)

    def counts(self) -> dict[str, dict[str, int]]:
        """{"nodes": {label: n}, "relationships": {type: n}}, types with none left out.
        The portable queries scan the graph; backends with counts at hand override this."""
        from .. import queries

        nodes = {r["label"]: r["count"]
                 for r in self.run(queries.get("admin/node-counts").text)}
        rels = {r["type"]: r["count"]
                for r in self.run(queries.get("admin/relationship-counts").text)}
        return {"nodes": dict(sorted(nodes.items())), "relationships": dict(sorted(rels.items()))}

    def graph_exists(self) -> bool:
        """Whether the graph is there to read (a Neo4j database always is)."""
        return True

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create the uniqueness constraints / indexes of `UNIQUE_KEYS` and the
        relationship indexes of `RELATIONSHIP_INDEXES` if missing."""

    @abstractmethod
    def close(self) -> None:
        """Release connections (and the embedded server, where there is one)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any, entity: Callable[[Any], Any] | None = None) -> Any:
    """Turn backend containers into plain dicts and lists, recursively. `entity` is the
    backend's converter for its graph types (nodes, relationships, paths): it returns the
    plain form, or NOT_AN_ENTITY. Nodes become {"labels", "properties"}, relationships
    {"type", "properties"}, paths {"nodes", "relationships"}, on every backend."""
    if type(value) in _SCALARS:  # the common case, checked without ABC machinery
        return value
    if entity is not None:
        converted = entity(value)
        if converted is not NOT_AN_ENTITY:
            return converted
    if isinstance(value, Mapping):
        return {str(k): plain(v, entity) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, entity) for v in value]
    return value


#: What a backend's entity converter returns for a value that is not a graph entity.
NOT_AN_ENTITY = object()


def node_form(labels: Any, properties: Mapping[str, Any]) -> dict[str, Any]:
    return {"labels": sorted(labels), "properties": plain(dict(properties))}


def relationship_form(rel_type: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": rel_type, "properties": plain(dict(properties))}
