"""Where an observed-edge write spends its time in the embedded FalkorDB.

    python benchmarks/bench_write.py                 # 100 models x 1,000 datasets
    python benchmarks/bench_write.py --json out/write.json

The README's "Scaling" section says ingest is bound by the database's own work; this is
the script behind that. It writes the same 100,000 TRANSFERS_TO edges in batches of
10,000 (ingest's batch size) several ways, into a scratch embedded database, and times
each against the statement that only unwinds the parameter list (what sending and parsing
the rows costs before any lookup) and the one that only looks the nodes up. Medians of
`--repeat` runs; compare figures of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("GRAPHREC_SERVER_IDLE", "0")

from graphrec.store import connect

UNWIND = "UNWIND $rows AS row RETURN count(*)"
LOOKUP = ("UNWIND $rows AS row MATCH (m:Model {name: row[0]}) "
          "MATCH (d:Dataset {name: row[1]}) RETURN count(*)")
MERGE = Path(__file__).resolve().parents[1] / "cypher" / "ingest" / "upsert-transfers.cypher"
CREATE = ("UNWIND $rows AS row MATCH (m:Model {name: row[0]}) "
          "MATCH (d:Dataset {name: row[1]}) "
          "CREATE (m)-[t:TRANSFERS_TO]->(d) SET t = row[2], t.updated_at = $now")
GROUPED = ("UNWIND $rows AS row MATCH (d:Dataset {name: row[0]}) "
           "UNWIND row[1] AS e MATCH (m:Model {name: e[0]}) "
           "CREATE (m)-[t:TRANSFERS_TO]->(d) SET t = e[1], t.updated_at = $now")
DELETE = "MATCH ()-[t:TRANSFERS_TO]->() DELETE t"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    rows = [[f"m{i}", f"d{j}", {"accuracy": 0.5, "runs": 1, "digest": 12345}]
            for i in range(args.models) for j in range(args.datasets)]
    by_dataset: dict[str, list] = defaultdict(list)
    for model, dataset, props in rows:
        by_dataset[dataset].append([model, props])
    grouped = [[name, edges] for name, edges in by_dataset.items()]
    per_group = max(1, args.batch // args.models)

    with tempfile.TemporaryDirectory() as tmp, connect(str(Path(tmp) / "db")) as store:
        store.run("UNWIND $names AS n CREATE (:Model {name: n})",
                  {"names": [f"m{i}" for i in range(args.models)]}, write=True)
        store.run("UNWIND $names AS n CREATE (:Dataset {name: n})",
                  {"names": [f"d{j}" for j in range(args.datasets)]}, write=True)

        def timed(query: str, batches: list, *, write: bool, clear: bool) -> float:
            runs = []
            for _ in range(args.repeat):
                if clear:
                    store.run(DELETE, write=True)
                start = time.perf_counter()
                for batch in batches:
                    store.run(query, {"rows": batch, "now": "2026-12-01T00:00:00Z"},
                              write=write)
                runs.append(time.perf_counter() - start)
            return statistics.median(runs)

        flat = [rows[i:i + args.batch] for i in range(0, len(rows), args.batch)]
        groups = [grouped[i:i + per_group] for i in range(0, len(grouped), per_group)]
        merge = MERGE.read_text()
        results = {
            "unwind the rows only": timed(UNWIND, flat, write=False, clear=False),
            "unwind and look the nodes up": timed(LOOKUP, flat, write=False, clear=False),
            "MERGE (upsert-transfers.cypher), new edges": timed(merge, flat, write=True,
                                                                clear=True),
            "MERGE, the same edges again": timed(merge, flat, write=True, clear=False),
            "CREATE, new edges": timed(CREATE, flat, write=True, clear=True),
            "CREATE, rows grouped by dataset": timed(GROUPED, groups, write=True,
                                                     clear=True),
        }
    n = len(rows)
    print(f"{n:,} edges, batches of {args.batch:,}, median of {args.repeat}")
    print(f"{'statement':<46} {'seconds':>8} {'rows/s':>10}")
    for name, seconds in results.items():
        print(f"{name:<46} {seconds:>8.2f} {n / seconds:>10,.0f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"edges": n, "batch": args.batch,
                                         "seconds": results}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
