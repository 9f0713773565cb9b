"""Neo4j 5 backend through the official `neo4j` driver.

Kept deliberately thin: the Cypher is the same as on FalkorDB; only schema statements and
connection handling live here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..config import Target, host_port
from ..errors import StoreError
from .base import (
    NOT_AN_ENTITY,
    RELATIONSHIP_INDEXES,
    UNIQUE_KEYS,
    Row,
    Store,
    node_form,
    plain,
    relationship_form,
)

# The driver logs connection failures that graphrec already reports as one clear error.
logging.getLogger("neo4j").addHandler(logging.NullHandler())


class Neo4jStore(Store):
    backend = "neo4j"

    def __init__(self, target: Target) -> None:
        import neo4j
        from neo4j import exceptions as nx

        self.target = target
        auth = (target.user or "neo4j", target.password) if target.password else None
        try:
            self._driver = neo4j.GraphDatabase.driver(_strip_credentials(target.uri), auth=auth)
            self._driver.verify_connectivity()
        except nx.AuthError as exc:
            raise StoreError(
                f"Neo4j at {target.safe_uri} refused the credentials; set NEO4J_USER and "
                "NEO4J_PASSWORD (or put them in the URI)"
            ) from exc
        except (nx.Neo4jError, nx.DriverError, OSError, ValueError) as exc:
            raise StoreError(f"cannot reach Neo4j at {target.safe_uri}: {exc}") from exc

    @property
    def location(self) -> str:
        return self.target.safe_uri

    def _run(self, query: str, params: Mapping[str, Any] | None = None, *,
             write: bool = False) -> list[Row]:
        import neo4j
        from neo4j import exceptions as nx

        try:
            records, _, keys = self._driver.execute_query(
                query, dict(params or {}), database_=self.target.database,
                routing_=neo4j.RoutingControl.WRITE if write else neo4j.RoutingControl.READ,
            )
        except nx.Neo4jError as exc:
            raise StoreError(f"Neo4j rejected the query: {exc.message}") from exc
        except (nx.DriverError, OSError) as exc:
            raise StoreError(
                f"lost the connection to Neo4j at {self.location} ({exc}). Writes that "
                "completed are safe; run the command again to finish."
            ) from exc
        return [{k: plain(record[k], _entity) for k in keys} for record in records]

    def ensure_schema(self) -> None:
        """Create what is missing, after looking: a user allowed only to read (common on
        Aura) can use a database whose schema an administrator made (`graphrec db init`)."""
        names = {row["name"] for show in SHOW_SCHEMA for row in self.run(show)}
        for name, statement in schema_statements():
            if name not in names:
                self.run(statement, write=True)

    def close(self) -> None:
        driver = getattr(self, "_driver", None)
        if driver is not None:
            driver.close()
            self._driver = None


#: What `ensure_schema` reads first: the names of the constraints and indexes there are.
SHOW_SCHEMA = ("SHOW CONSTRAINTS YIELD name RETURN name", "SHOW INDEXES YIELD name RETURN name")


def schema_statements() -> list[tuple[str, str]]:
    """(name, statement) for each constraint and index graphrec needs on Neo4j. Labels,
    types and keys cannot be parameters; they come from the constants, never from input."""
    statements = [(f"graphrec_{label.lower()}_{key}",
                   f"CREATE CONSTRAINT graphrec_{label.lower()}_{key} IF NOT EXISTS "
                   f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE")
                  for label, key in UNIQUE_KEYS.items()]
    statements += [(f"graphrec_{rel.lower()}_{key.lower()}",
                    f"CREATE INDEX graphrec_{rel.lower()}_{key.lower()} IF NOT EXISTS "
                    f"FOR ()-[r:{rel}]-() ON (r.{key})")
                   for rel, key in RELATIONSHIP_INDEXES]
    return statements


def _entity(value: Any) -> Any:
    """The driver's Node, Relationship and Path in the plain forms of `plain`."""
    from neo4j import graph

    if isinstance(value, graph.Node):
        return node_form(value.labels, value)
    if isinstance(value, graph.Relationship):
        return relationship_form(value.type, value)
    if isinstance(value, graph.Path):
        return {"nodes": [_entity(n) for n in value.nodes],
                "relationships": [_entity(r) for r in value.relationships]}
    return NOT_AN_ENTITY


def _strip_credentials(uri: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    return urlunsplit(parts._replace(netloc=host_port(parts), query=""))
