"""Are graphrec's 80% intervals calibrated on held-out datasets of real zoos?

    python benchmarks/bench_intervals.py                     # DomainNet + ../shared/data/zoos
    python benchmarks/bench_intervals.py --methods auto,mean --seeds 5 --json out/iv.json
    python benchmarks/bench_intervals.py --seeds 20 --first-seed 10   # the README's table
    python benchmarks/bench_intervals.py --methods auto,hla --reveal 1 --seeds 10 --first-seed 10
                                    # new datasets after their first fine-tuning run
    python benchmarks/bench_intervals.py ... --reveal 1 --no-scale   # its ablation

The held-out protocol of `graphrec benchmark --protocol holdout` (a quarter of the
datasets hidden whole, half the entries of the others), and inside each repetition what
`graphrec train` does: fit the predictor on the known entries and calibrate its intervals
on those known entries alone (`graphrec.predict.intervals`, a nested split). Reported per
zoo, method and regime: the share of hidden accuracies inside their interval (goal
0.70-0.90 for 80% intervals) and the mean width, over the hidden entries of all
repetitions together, with the coverage's standard error: a jackknife over the zoo's
datasets (one dataset's entries miss or hit together, in every repetition it is drawn
in, so a zoo of 10 datasets measures coverage to about +-0.07 however many repetitions
run). DomainNet and the zoos are read from ../shared/data (or
GRAPHREC_DOMAINNET / GRAPHREC_ZOOS). `--plot FILE.png` draws the first method's
calibration curve (nominal coverage 0.5-0.95 against measured, from the same fits).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import real_zoos

from graphrec.predict.graph import holdout_mask
from graphrec.predict.intervals import calibrate_levels
from graphrec.predict.registry import make_predictor

LEVELS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def one(graph, method: str, seed: int, levels: list[float], reveal: int = 0,
        scale: bool = True) -> dict[float, dict[str, float]]:
    """One repetition: per nominal coverage, the hidden entries inside and the widths.
    `reveal`: the datasets held out whole keep that many random entries (a new dataset
    after that many fine-tuning runs; all but one where they have fewer), and are reported
    in the "cold" slot. `scale=False`: one partial width whatever a dataset's count of
    results (the ablation of `Calibration.sigma`)."""
    truth = graph.matrix()
    observed = np.isfinite(truth)
    known, cold = holdout_mask(seed, observed, 0.25, 0.5)
    if reveal:
        rng = np.random.default_rng(10_000 + seed)
        for j in np.flatnonzero(cold):
            rows = np.flatnonzero(observed[:, j])  # >= 2: one at least stays hidden
            known[rng.choice(rows, min(reveal, len(rows) - 1), replace=False), j] = True
    train = graph.with_edges(known[graph.edges[:, 0], graph.edges[:, 1]])
    predictor = make_predictor(method).twin(seed)
    predictor.fit(train)
    hidden = np.argwhere(observed & ~known)
    scores = predictor.predict(train, hidden)
    y = truth[hidden[:, 0], hidden[:, 1]]
    out = {}
    for calibration in calibrate_levels(predictor, train, levels, seed=seed):
        if not scale:
            calibration = replace(calibration, noise_var=None, dataset_var=None)
        low, high = calibration.bounds(scores, known.sum(axis=0)[hidden[:, 1]])
        inside = (low <= y) & (y <= high)
        cell = {}
        for regime, rows in (("cold", cold[hidden[:, 1]]), ("partial", ~cold[hidden[:, 1]])):
            columns = hidden[rows, 1]
            cell[f"{regime}_inside"] = np.bincount(columns, inside[rows],
                                                   minlength=graph.num_datasets)
            cell[f"{regime}_entries"] = np.bincount(columns, minlength=graph.num_datasets)
            cell[f"{regime}_width_sum"] = float((high - low)[rows].sum())
        out[calibration.coverage] = cell
    return out


def jackknife_se(inside: np.ndarray, entries: np.ndarray) -> float | None:
    """The standard error of sum(inside) / sum(entries) over datasets, leaving out one
    dataset (with entries) at a time."""
    keep = entries > 0
    inside, entries = inside[keep], entries[keep]
    k = len(entries)
    if k < 2:
        return None
    loo = (inside.sum() - inside) / (entries.sum() - entries)
    return float(np.sqrt((k - 1) / k * np.sum((loo - loo.mean()) ** 2)))


def pooled(reps: list[dict], level: float) -> dict:
    row = {}
    for regime in ("cold", "partial"):
        inside = sum(r[level][f"{regime}_inside"] for r in reps)
        entries = sum(r[level][f"{regime}_entries"] for r in reps)
        n = int(entries.sum())
        se = jackknife_se(inside, entries)
        row[f"{regime}_coverage"] = round(float(inside.sum()) / n, 3) if n else None
        row[f"{regime}_se"] = None if se is None else round(se, 3)
        row[f"{regime}_width"] = (round(sum(r[level][f"{regime}_width_sum"] for r in reps) / n,
                                        3) if n else None)
        row[f"{regime}_entries"] = n
        row[f"{regime}_datasets"] = int((entries > 0).sum())
    return row


def plot(curves: dict[str, dict[float, dict]], method: str, path: Path) -> None:
    """Nominal against measured coverage, one panel per zoo, cold and partial."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(3.2 * len(curves), 3.4), sharey=True,
                             squeeze=False)
    for ax, (zoo, by_level) in zip(axes[0], curves.items(), strict=True):
        levels = sorted(by_level)
        ax.plot([0.4, 1], [0.4, 1], color="grey", lw=0.8, ls="--")
        for regime, marker in (("cold", "o"), ("partial", "s")):
            ax.plot(levels, [by_level[v][f"{regime}_coverage"] for v in levels],
                    marker=marker, label=regime)
        ax.set_title(zoo, fontsize=9)
        ax.set_xlabel("nominal coverage")
        ax.set_xlim(0.45, 1)
        ax.set_ylim(0.4, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("hidden accuracies inside")
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Calibration of {method}'s intervals on held-out datasets", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="auto,hla,linear,mean")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="repetitions use seeds FIRST..FIRST+SEEDS-1")
    parser.add_argument("--coverage", type=float, default=0.8)
    parser.add_argument("--max-datasets", type=int, default=600)
    parser.add_argument("--reveal", type=int, default=0, metavar="K",
                        help="the held-out datasets keep K random results: the cold columns "
                             "then show new datasets after K fine-tuning runs")
    parser.add_argument("--no-scale", action="store_true",
                        help="ablation: one partial width, whatever a dataset's count of "
                             "results (as before the intervals scaled with it)")
    parser.add_argument("--zoos", metavar="A,B", help="only the zoos whose names contain one "
                        "of these (e.g. nlp,medmnist)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path,
                        help="the calibration curve of the first method (a .png)")
    args = parser.parse_args()
    levels = sorted({*LEVELS, args.coverage})
    results, curves = [], {}
    new = f"{args.reveal} known" if args.reveal else "cold"
    print(f"{'zoo':<26} {'method':<8} {new + ' cover':>13} {'width':>6} "
          f"{'partial cover':>13} {'width':>6} {'s':>5}")
    methods = args.methods.split(",")
    for name, graph in real_zoos(args.max_datasets, args.zoos):
        for method in methods:
            start = time.perf_counter()
            seeds = range(args.first_seed, args.first_seed + args.seeds)
            reps = [one(graph, method, seed, levels, args.reveal, not args.no_scale)
                    for seed in seeds]
            row: dict = {"zoo": name, "method": method,
                         "seconds": round(time.perf_counter() - start, 1),
                         **pooled(reps, args.coverage),
                         "curve": {str(v): pooled(reps, v) for v in levels}}
            if method == methods[0]:
                curves[name] = {v: pooled(reps, v) for v in levels}
            results.append(row)
            cells = [f"{row[f'{r}_coverage']}+-{row[f'{r}_se']}" for r in ("cold", "partial")]
            print(f"{name:<26} {method:<8} {cells[0]:>13} {row['cold_width']:>6} "
                  f"{cells[1]:>13} {row['partial_width']:>6} {row['seconds']:>5}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"coverage": args.coverage, "seeds": args.seeds,
                                         "first_seed": args.first_seed,
                                         "reveal": args.reveal, "scale": not args.no_scale,
                                         "results": results}, indent=2))
    if args.plot:
        plot(curves, methods[0], args.plot)


if __name__ == "__main__":
    sys.exit(main())
