"""Do proxy scores help the predictors? The paper's protocol with and without them.

    python benchmarks/bench_score_inputs.py                       # 30 x 500, 10 repetitions
    python benchmarks/bench_score_inputs.py --noise 0.25 1 4 --seeds 3 --json out.json

For each score noise level, a synthetic zoo (`graphrec synth`: complete matrix, pair effects
of spread `--pair-sd` that metadata cannot explain) gets a proxy score for every pair that
sees those effects through Gaussian noise of that SD. Every predictor then runs with and
without the scores on the same seeded masks (`graphrec benchmark --methods hla,hla+scores,
...`). The last noise level is meant to be useless scores: a predictor should then do no
worse with them than without. Prints, per level, the paper's Avg and cold-start Spearman
and the top-1 regret, mean over repetitions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit

import graphrec
from graphrec.benchmark import run_benchmark
from graphrec.benchmark.runner import matrix_graph
from graphrec.synth import generate_zoo

METHODS = ["proxy", "linear", "linear+scores", "scg4trf", "scg4trf+scores", "hla", "hla+scores"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=30)
    parser.add_argument("--datasets", type=int, default=500)
    parser.add_argument("--pair-sd", type=float, default=0.5)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.25, 0.5, 1.0, 8.0],
                        help="score noise SDs (logit scale) to try")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    for noise in args.noise:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            generate_zoo(args.models, args.datasets, 1.0, 0, out, pair_sd=args.pair_sd,
                         score_noise=noise)
            graph = matrix_graph(graphrec.load(out / "records.csv", models=out / "models.csv",
                                               datasets=out / "datasets.csv",
                                               scores=out / "scores.csv", metric="synthetic"))
        started = time.perf_counter()
        result = run_benchmark(graph, args.methods.split(","), seeds=args.seeds,
                               masks="seeded", epochs=args.epochs)
        print(f"score noise {noise}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        for m in result.methods:
            summary = m.summary()
            rows.append({"score_noise": noise, "method": m.key,
                         "avg": round(summary["avg"][0], 3),
                         "cold": round(summary["cold"][0], 3),
                         "cold_sd": round(summary["cold"][1], 3),
                         "rho_unknown": round(summary["spearman_unknown"][0], 3),
                         "regret_pts": round(summary["top1_regret"][0], 2),
                         "seconds": m.seconds})
    emit(rows, args.json)


if __name__ == "__main__":
    main()
