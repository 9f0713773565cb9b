"""Does `graphrec suggest` find a new dataset's best model in fewer fine-tuning runs?

    python benchmarks/bench_suggest.py                          # auto, 3 seeds
    python benchmarks/bench_suggest.py --seeds 4 --max-targets 5   # the README's table
    python benchmarks/bench_suggest.py --seeds 10 --group 0     # one refit for all datasets
    python benchmarks/bench_suggest.py --methods hla --seeds 5 --json out/suggest.json

Simulated sequential fine-tuning on held-out datasets of DomainNet and the zoos in
../shared/data/zoos (or GRAPHREC_DOMAINNET / GRAPHREC_ZOOS), as
`graphrec.benchmark.sequential` describes: `suggest` (one run, ingest, retrain, ask
again, each held-out dataset in a loop of its own unless `--group` says otherwise), the
predictor's top N fixed in advance, the per-model-mean order and random orders. Regret
in points of the best model found after 1, 2, 3 and 5 runs, and the mean runs until the
regret is under 0.5 points, cold and partial datasets apart; `s - top` is suggest minus
the top N, dataset by dataset, with its standard error. `--plot FILE.png` draws the
regret curves (`--from-json` redraws them from an earlier `--json`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import real_zoos

from graphrec.benchmark.sequential import STRATEGIES, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="auto")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="repetitions use seeds FIRST..FIRST+SEEDS-1")
    parser.add_argument("--max-datasets", type=int, default=600)
    parser.add_argument("--group", type=int, default=1,
                        help="held-out datasets whose results one refit takes in (1: each "
                             "dataset's loop alone, as a user sees it; 0: all at once)")
    parser.add_argument("--max-targets", type=int, metavar="N",
                        help="simulate at most N held-out datasets per regime and "
                             "repetition (a seeded sample: --group 1 refits per dataset)")
    parser.add_argument("--zoos", metavar="A,B", help="only the zoos whose names contain one "
                        "of these (e.g. nlp,medmnist)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path, help="regret after 1-5 runs, per zoo (a .png)")
    parser.add_argument("--from-json", type=Path,
                        help="draw --plot from an earlier --json instead of running")
    args = parser.parse_args()
    if args.from_json:
        plot(json.loads(args.from_json.read_text()), args.plot)
        return
    results = []
    budgets = (1, 2, 3, 5)
    print(f"{'zoo':<24} {'method':<7} {'regime':<8} {'strategy':<8} "
          + " ".join(f"{'@' + str(b):>6}" for b in budgets) + f" {'runs':>6}")
    for name, graph in real_zoos(args.max_datasets, args.zoos):
        for method in args.methods.split(","):
            start = time.perf_counter()
            res = simulate(graph, method, seeds=args.seeds, budgets=budgets,
                           first_seed=args.first_seed, group=args.group or None,
                           max_targets=args.max_targets)
            seconds = round(time.perf_counter() - start, 1)
            for regime in ("cold", "partial"):
                for strategy in STRATEGIES:
                    row = res[regime][strategy]
                    results.append({"zoo": name, "method": method, "regime": regime,
                                    "strategy": strategy, "datasets": res["datasets"][regime],
                                    "seconds": seconds, **row})
                    print(f"{name:<24} {method:<7} {regime:<8} {strategy:<8} "
                          + " ".join(f"{row[f'regret@{b}']:>6.2f}" for b in budgets)
                          + f" {row['runs']:>6.2f}", flush=True)
                diff = res[regime].get("suggest-top")
                if diff:
                    results.append({"zoo": name, "method": method, "regime": regime,
                                    "strategy": "suggest-top", **diff})
                    print(f"{name:<24} {method:<7} {regime:<8} {'s - top':<8} "
                          + " ".join(f"{diff[f'regret@{b}']:>+6.2f}" for b in budgets)
                          + f" {diff['runs']:>+6.2f}   (se "
                          + " ".join(f"{diff[f'se:regret@{b}']:.2f}" for b in budgets)
                          + f" {diff['se:runs']:.2f})", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    if args.plot:
        plot(results, args.plot)


def plot(results: list[dict], path: Path) -> None:
    """Regret (points) after 1, 2, 3 and 5 runs: a panel per zoo and regime."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted({(r["zoo"], r["regime"]) for r in results},
                    key=lambda p: (p[1] != "cold", p[0]))
    zoos = sorted({z for z, _ in panels})
    fig, axes = plt.subplots(2, len(zoos), figsize=(3.2 * len(zoos), 6), squeeze=False)
    budgets = (1, 2, 3, 5)
    for zoo, regime in panels:
        ax = axes[0 if regime == "cold" else 1][zoos.index(zoo)]
        for strategy in STRATEGIES:
            row = next(r for r in results if (r["zoo"], r["regime"], r["strategy"])
                       == (zoo, regime, strategy))
            ax.plot(budgets, [row[f"regret@{b}"] for b in budgets], marker="o",
                    label=strategy)
        ax.set_title(f"{zoo}, {regime}", fontsize=9)
        ax.set_xticks(budgets)
        ax.set_xlabel("fine-tuning runs")
        ax.grid(alpha=0.3)
    for row in axes:
        row[0].set_ylabel("regret of the best found (points)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Simulated sequential fine-tuning on held-out datasets", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
