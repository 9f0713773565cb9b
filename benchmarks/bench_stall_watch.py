"""What the deadlock watch costs a command on the embedded FalkorDB.

    python benchmarks/bench_stall_watch.py
    python benchmarks/bench_stall_watch.py --reads 5000 --repeat 9 --json out/watch.json

Every command sent to the embedded server opens and closes a `StallWatch.waiting()`
(`graphrec/store/stall.py`). This times the cheapest read there is, `RETURN 1`, with the
watch and without it, alternating in one run. The watch's cost is a lock and a counter;
its thread wakes only while a command is outstanding. Medians of `--repeat` rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRAPHREC_SERVER_IDLE", "0")

from graphrec.store import connect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000, help="reads per round")
    parser.add_argument("--repeat", type=int, default=7, help="rounds of each")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"with the watch": [], "without": []}
    with tempfile.TemporaryDirectory() as home:
        store = connect(str(Path(home) / "db"))
        try:
            watch = store._watch
            for _ in range(args.repeat):
                for name in times:
                    store._watch = watch if name == "with the watch" else None
                    start = time.perf_counter()
                    for _ in range(args.reads):
                        store.run("RETURN 1 AS one")
                    times[name].append((time.perf_counter() - start) / args.reads * 1e6)
            store._watch = watch
        finally:
            store.close()
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["with the watch"] / medians["without"]
    for name, value in medians.items():
        print(f"{name:>15}: {value:7.1f} µs per read (median of {args.repeat})")
    print(f"{'ratio':>15}: {ratio:7.3f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"us_per_read": medians, "ratio": ratio,
                                         "reads": args.reads, "repeat": args.repeat}))


if __name__ == "__main__":
    main()
