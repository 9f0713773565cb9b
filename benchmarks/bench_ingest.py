"""Ingest throughput and peak memory into the embedded database.

    python benchmarks/bench_ingest.py                       # the paper's data and 1M edges
    python benchmarks/bench_ingest.py --only paper
    python benchmarks/bench_ingest.py --models 1000 --datasets 100000 --density 0.01

Each case ingests into a fresh database in a temporary folder and reports:
- validate: reading and checking the files (no database work);
- write: the database part of the ingest;
- observed edges/s: TRANSFERS_TO edges over (validate + write);
- relationships/s: every relationship the ingest created (attribute links included) over
  the write time;
- peak memory of the graphrec process (max RSS) and of the database server (its VmHWM).
Figures go to stdout as a table and, with --json FILE, to a JSON file.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from common import DOMAINNET, add_zoo_arguments, emit

import graphrec
from graphrec.api import load
from graphrec.synth import generate_zoo


def _server_peak_mib(pid: int | None) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, TypeError):
        return None
    return None


def run_case(name: str, files: dict, workdir: Path) -> dict:
    t0 = time.perf_counter()
    zoo = load(**files)
    validated = time.perf_counter() - t0
    with graphrec.open(str(workdir / f"db-{name}")) as g:
        before = sum(g.stats()["relationships"].values())
        t1 = time.perf_counter()
        summary = g.ingest(zoo)
        written = time.perf_counter() - t1
        rels = sum(g.stats()["relationships"].values()) - before
        server_peak = _server_peak_mib(g.store.server_pid)
        t2 = time.perf_counter()
        again = g.ingest(zoo)
        second = time.perf_counter() - t2
    observed = summary.transfers.created
    return {
        "case": name,
        "observed_edges": observed,
        "relationships_created": rels,
        "validate_s": round(validated, 2),
        "write_s": round(written, 2),
        "observed_edges_per_s": round(observed / (validated + written)),
        "observed_edges_per_s_write_only": round(observed / written),
        "relationships_per_s_write_only": round(rels / written),
        "second_ingest_s": round(second, 2),
        "second_ingest_changed": again.changed,
        "graphrec_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "server_peak_rss_mib": round(server_peak) if server_peak else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_zoo_arguments(parser)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="graphrec-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "paper"):
            if (DOMAINNET / "record_domainnet_10_270.csv").exists():
                results.append(run_case("paper", {"path": DOMAINNET, "loader": "domainnet"},
                                        work))
            else:
                print(f"skipping the paper's data: not found at {DOMAINNET}", file=sys.stderr)
        if args.only in (None, "synth"):
            t = time.perf_counter()
            zoo = generate_zoo(args.models, args.datasets, args.density, args.seed,
                               work / "zoo")
            print(f"generated {zoo.records:,} records in {time.perf_counter() - t:.1f} s",
                  file=sys.stderr)
            name = f"synth {args.models}x{args.datasets}@{args.density}"
            results.append(run_case(name, {"path": zoo.files["records"],
                                           "models": zoo.files["models"],
                                           "datasets": zoo.files["datasets"]}, work))
    emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
