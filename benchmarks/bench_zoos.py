"""The default against every other method on the four published zoos: the README's table.

    python benchmarks/bench_zoos.py                     # the suite, seeds 0..9, all zoos
    python benchmarks/bench_zoos.py --seeds 3 --out results/zoos

Runs `graphrec benchmark --suite ROOT` (ROOT: `GRAPHREC_ZOOS`, default ../shared/data, which
holds DomainNet and the zoos of shared/data/zoos) as one command, times it whole, and prints
the summary: per zoo and regime, the default's weighted tau and top-1 regret beside the best
other method on the same pairs. `--out` keeps every table, CSV, JSON and plot.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get(
        "GRAPHREC_ZOOS", REPO.parent / "shared/data")))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="graphrec-zoos-"))
    command = [sys.executable, "-m", "graphrec", "benchmark", "--suite", str(args.root),
               "--seeds", str(args.seeds), "--out", str(out), "--json"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(done.stderr or done.stdout)
    data = json.loads(done.stdout)
    print((out / "suite.md").read_text())
    print(f"\nthe whole suite: {seconds:.0f} s wall ({' '.join(command[1:])})")
    failing = [r for r in data["summary"]
               if (r["metric"] == "wtau" and r["gap"] > 0.02)
               or (r["metric"] == "regret" and r["regime"] == "cold" and r["gap"] > 0.5)]
    print(f"cells outside the issue's bounds (weighted tau more than 0.02 behind, cold "
          f"regret more than 0.5 points above): {len(failing)}")
    for r in failing:
        print(f"  {r['zoo']} {r['regime']} {r['metric']}: {r['default']:.3f} against "
              f"{r['best']} {r['best_value']:.3f}")


if __name__ == "__main__":
    main()
