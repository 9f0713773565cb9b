"""Wall time and peak memory of the transferability scores on synthetic features.

    python benchmarks/bench_scores.py                          # N=10000, D=2048, C=100
    python benchmarks/bench_scores.py --samples 50000 --dim 768 --classes 1000
    python benchmarks/bench_scores.py --json                   # JSON on stdout, no table
    python benchmarks/bench_scores.py --json out.json          # the table, and the JSON file

The inputs mimic one model on one target set: features are float32 class means plus noise
(as a network would hand them over; the scores convert them to float64 inside), and source
softmax outputs over `--source-classes` classes whose argmax follows the target class for
half the samples. Each score runs `--repeat` times; the table gives the best and median
wall time. Peak RSS is the whole process's high-water mark after that score's runs
(`resource.getrusage`), so it includes the inputs and any earlier score; the first row's
baseline is the RSS once the inputs exist. Scores run in the order logme, hscore, leep, nce.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from graphrec.scores import hscore, leep, logme_evidence, nce


def peak_rss_mib() -> float:
    """Process high-water mark; Linux reports KiB, macOS bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def synthetic(n: int, d: int, c: int, z: int, seed: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float32 features (N, D), int64 labels (N,), float32 source probabilities (N, Z)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, n)
    means = rng.normal(size=(c, d)).astype(np.float32)
    features = rng.standard_normal((n, d), dtype=np.float32) * np.float32(3.0)
    features += means[labels]
    hard = np.where(rng.random(n) < 0.5, labels % z, rng.integers(0, z, n))
    logits = rng.standard_normal((n, z), dtype=np.float32)
    logits[np.arange(n), hard] += np.float32(4.0)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return features, labels, probs


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    seconds, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - t)
    return seconds, out


def markdown(rows: list[dict]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |",
             "|" + "|".join("---:" if isinstance(rows[0][k], int | float) else "---"
                            for k in cols) + "|"]
    lines += ["| " + " | ".join("" if r[k] is None else str(r[k]) for k in cols) + " |"
              for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--source-classes", type=int, default=1000,
                        help="columns of the source softmax (LEEP, NCE)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH",
                        help="write the rows as JSON to PATH (or alone: print JSON, no table)")
    args = parser.parse_args()

    n, d, c, z = args.samples, args.dim, args.classes, args.source_classes
    features, labels, probs = synthetic(n, d, c, z, args.seed)
    hard = probs.argmax(axis=1)
    baseline = peak_rss_mib()

    runs: list[tuple[str, Callable[[], object], str]] = [
        ("logme", lambda: logme_evidence(features, labels), f"{n} x {d}"),
        ("hscore", lambda: hscore(features, labels), f"{n} x {d}"),
        ("leep", lambda: leep(probs, labels), f"{n} x {z} probs"),
        ("nce", lambda: nce(hard, labels), f"{n} source labels"),
    ]
    rows = []
    for name, fn, inputs in runs:
        seconds, out = timed(fn, args.repeat)
        score = out.score if name == "logme" else out
        rows.append({
            "metric": name, "inputs": inputs, "classes": c,
            "best_s": round(min(seconds), 4), "median_s": round(statistics.median(seconds), 4),
            "iterations": out.iterations if name == "logme" else None,
            "score": round(float(score), 4), "peak_rss_mib": round(peak_rss_mib()),
        })

    meta = {"samples": n, "dim": d, "classes": c, "source_classes": z, "seed": args.seed,
            "repeat": args.repeat, "cpus": os.cpu_count(), "numpy": np.__version__,
            "baseline_rss_mib": round(baseline)}
    if args.json == "-":
        print(json.dumps({"meta": meta, "rows": rows}, indent=2))
        return
    print(f"N={n}, D={d}, C={c}, Z={z}, repeat={args.repeat}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}; RSS with the inputs built: {round(baseline)} MiB\n")
    print(markdown(rows))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
