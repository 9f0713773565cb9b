"""Are graphrec's 80% intervals calibrated on held-out datasets of real zoos?

    python benchmarks/bench_intervals.py                     # DomainNet + ../shared/data/zoos
    python benchmarks/bench_intervals.py --methods auto,mean --seeds 5 --json out/iv.json

The held-out protocol of `graphrec benchmark --protocol holdout` (a quarter of the
datasets hidden whole, half the entries of the others), and inside each repetition what
`graphrec train` does: fit the predictor on the known entries and calibrate its intervals
on those known entries alone (`graphrec.predict.intervals`, a nested split). Reported per
zoo, method and regime: the share of hidden accuracies inside their interval (goal
0.70-0.90 for 80% intervals) and the mean width, over the hidden entries of all
repetitions together. DomainNet and the zoos are read from ../shared/data (or
GRAPHREC_DOMAINNET / GRAPHREC_ZOOS).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from common import real_zoos

from graphrec.predict.graph import holdout_mask
from graphrec.predict.intervals import calibrate
from graphrec.predict.registry import make_predictor


def one(graph, method: str, seed: int, coverage: float) -> dict[str, float]:
    truth = graph.matrix()
    observed = np.isfinite(truth)
    known, cold = holdout_mask(seed, observed, 0.25, 0.5)
    train = graph.with_edges(known[graph.edges[:, 0], graph.edges[:, 1]])
    config = make_predictor(method).get_config()
    predictor = make_predictor(method, **({"seed": seed} if "seed" in config else {}))
    predictor.fit(train)
    calibration = calibrate(predictor, train, coverage=coverage, seed=seed)
    hidden = np.argwhere(observed & ~known)
    scores = predictor.predict(train, hidden)
    low, high = calibration.bounds(scores, cold[hidden[:, 1]])
    y = truth[hidden[:, 0], hidden[:, 1]]
    inside = (low <= y) & (y <= high)
    out = {}
    for regime, rows in (("cold", cold[hidden[:, 1]]), ("partial", ~cold[hidden[:, 1]])):
        out[f"{regime}_inside"] = int(inside[rows].sum())
        out[f"{regime}_entries"] = int(rows.sum())
        out[f"{regime}_width_sum"] = float((high - low)[rows].sum())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="auto,hla,linear,mean")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--coverage", type=float, default=0.8)
    parser.add_argument("--max-datasets", type=int, default=600)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    print(f"{'zoo':<26} {'method':<8} {'cold cover':>10} {'width':>6} "
          f"{'partial cover':>13} {'width':>6} {'s':>5}")
    for name, graph in real_zoos(args.max_datasets):
        for method in args.methods.split(","):
            start = time.perf_counter()
            reps = [one(graph, method, seed, args.coverage) for seed in range(args.seeds)]
            row: dict = {"zoo": name, "method": method,
                         "seconds": round(time.perf_counter() - start, 1)}
            for regime in ("cold", "partial"):
                n = sum(r[f"{regime}_entries"] for r in reps)
                row[f"{regime}_coverage"] = (round(sum(r[f"{regime}_inside"] for r in reps) / n,
                                                   3) if n else None)
                row[f"{regime}_width"] = (round(sum(r[f"{regime}_width_sum"] for r in reps) / n,
                                                3) if n else None)
                row[f"{regime}_entries"] = n
            results.append(row)
            print(f"{name:<26} {method:<8} {row['cold_coverage']:>10} {row['cold_width']:>6} "
                  f"{row['partial_coverage']:>13} {row['partial_width']:>6} "
                  f"{row['seconds']:>5}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"coverage": args.coverage, "seeds": args.seeds,
                                         "results": results}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
