"""How `auto`'s hyper-parameters were chosen: variants on validation seeds, never the
reported ones.

    python benchmarks/tune_auto.py                      # every zoo, the variants below
    python benchmarks/tune_auto.py --zoos medmnist_sources --variants '{"steps2": {"steps": 2}}'

For each zoo under the suite folder (`GRAPHREC_ZOOS`, default ../shared/data), the
held-out protocol runs with repetitions seeded from 100 (the README and `bench_zoos.py`
report seeds 0..9), every other method once, then each `auto` variant. Printed per zoo
and variant: the gap to the best other method on the same pairs, weighted tau (cold and
partial) and top-1 regret (cold), as the issue's acceptance reads them; plus the sum of
the positive gaps, the figure the defaults were picked on.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from common import REPO

#: What was tried (relative to today's defaults: halves, regret weight 0.1, 2 repeats).
VARIANTS = {
    "defaults": {},
    "first try": {"steps": 4, "regret_weight": 0.04},
    "wtau only": {"regret_weight": 0.0},
    "regret 0.04": {"regret_weight": 0.04},
    "regret 0.2": {"regret_weight": 0.2},
    "margin 0.02": {"margin": 0.02},
    "4 repeats": {"folds": 4},
    "+linear+scores": {"candidates": ["hla", "linear", "scg4trf", "linear+scores"]},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get(
        "GRAPHREC_ZOOS", REPO.parent / "shared/data")))
    parser.add_argument("--zoos", help="comma-separated zoo names (default: all)")
    parser.add_argument("--variants", help="JSON {name: AutoPredictor options}")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=100)
    args = parser.parse_args()

    from graphrec.benchmark import methods as registry
    from graphrec.benchmark.holdout_report import compare_default
    from graphrec.benchmark.inputs import load_matrix
    from graphrec.benchmark.runner import run_benchmark
    from graphrec.benchmark.suite import find_zoos
    from graphrec.predict.registry import make_predictor

    variants = json.loads(args.variants) if args.variants else VARIANTS
    wanted = set(args.zoos.split(",")) if args.zoos else None
    for name, folder, loader in find_zoos(args.root):
        if wanted and name not in wanted:
            continue
        graph, _ = load_matrix(folder, loader)
        common = dict(protocol="holdout", seeds=args.seeds, epochs=300,
                      first_seed=args.first_seed)
        others = [k for k in registry.default_methods(False, bool(graph.scores), "holdout",
                                                       sorted(graph.scores)) if k != "auto"]
        base = run_benchmark(graph, others, **common)
        for label, options in variants.items():
            registry.METHODS["tuned"] = registry.Method(
                "tuned", label, "chosen", lambda s, o=options: make_predictor("auto", **o))
            tuned = run_benchmark(graph, ["tuned"], **common)
            base.methods.append(tuned.methods[0])
            gaps = compare_default(base, "tuned")
            base.methods.pop()
            cells = {f"{g['regime']}_{g['metric']}": g for g in gaps}
            loss = sum(max(0.0, g["gap"]) * (1 if g["metric"] == "wtau" else 0.04)
                       for g in gaps if g["metric"] == "wtau" or g["regime"] == "cold")
            print(f"{name:24s} {label:12s} {tuned.methods[0].seconds:6.1f} s  " + "  ".join(
                f"{k} {g['gap']:+.3f} ({g['best']})" for k, g in cells.items()
                if k != "partial_regret") + f"  loss {loss:.4f}", flush=True)


if __name__ == "__main__":
    main()
