"""Print, as JSON for lint.mjs, every Cypher text that graphrec sends to Neo4j.

    python cypher-lint/collect.py | node cypher-lint/lint.mjs

A list of {"source": ..., "text": ...}: each `.cypher` file under `cypher/` as it is (its
path is the source, so LINE:COL point into the file), then the statements graphrec builds
in Python for Neo4j: the schema statements and the SHOW statements that look first
(graphrec/store/neo4j.py), the schema probe (graphrec/store/__init__.py) and the health
check (graphrec/serve.py). For those the source names the constant and LINE:COL point into
its text.

Left out: graphrec/store/falkordb.py. Its statements (CALL db.indexes(), db.constraints(),
db.meta.stats(), and CREATE INDEX FOR ... ON ...) run only on FalkorDB, which has its own
schema path; Neo4j never sees them, and Neo4j accepting one would say nothing about
FalkorDB. Neo4j's schema is made by the named, IF NOT EXISTS statements checked here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def collect() -> list[dict[str, str]]:
    sys.path.insert(0, str(ROOT))  # this checkout's graphrec, whatever else is installed
    from graphrec import serve, store
    from graphrec.store import neo4j

    items = [{"source": path.relative_to(ROOT).as_posix(),
              "text": path.read_text(encoding="utf-8")}
             for path in sorted((ROOT / "cypher").rglob("*.cypher"))]
    items += [{"source": f"graphrec.store.neo4j.schema_statements()[{name}]", "text": text}
              for name, text in neo4j.schema_statements()]
    items += [{"source": f"graphrec.store.neo4j.SHOW_SCHEMA[{i}]", "text": text}
              for i, text in enumerate(neo4j.SHOW_SCHEMA)]
    items.append({"source": "graphrec.store.SCHEMA_PROBE", "text": store.SCHEMA_PROBE})
    items.append({"source": "graphrec.serve.HEALTH_QUERY", "text": serve.HEALTH_QUERY})
    return items


if __name__ == "__main__":
    json.dump(collect(), sys.stdout, indent=1)
    sys.stdout.write("\n")
