"""The held-out protocol's result as a plot (`holdout_plot`); its Markdown tables and the
default's comparison with the best other method are in `results` (re-exported here).
"""

from __future__ import annotations

import math
from pathlib import Path

from .holdout import REGIMES
from .results import (
    LOWER_IS_BETTER,
    BenchmarkResult,
    compare_default,
    holdout_markdown,
    subset_suffix,
)

__all__ = ["LOWER_IS_BETTER", "compare_default", "holdout_markdown", "holdout_plot"]


def holdout_plot(result: BenchmarkResult, path: Path, title: str = "",
                 default: str = "auto") -> Path:
    """Weighted tau and top-1 regret per method, cold and partial, std as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = result.methods
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.9 + 0.32 * len(methods) * 2), sharey=True)
    colours = {"cold": "#4477aa", "partial": "#ee9944"}
    ys = list(range(len(methods)))
    for ax, metric, xlabel in ((axes[0], "wtau", "weighted Kendall tau (higher is better)"),
                               (axes[1], "regret", "top-1 regret, points (lower is better)")):
        for k, regime in enumerate(REGIMES):
            means, stds = [], []
            for m in methods:
                mean, std = m.summary().get(f"{regime}_{metric}{subset_suffix(m.key)}",
                                            (math.nan, math.nan))
                means.append(mean if math.isfinite(mean) else 0.0)
                stds.append(std if math.isfinite(std) else 0.0)
            ax.barh([y + (k - 0.5) * 0.4 for y in ys], means, 0.4, xerr=stds, capsize=2,
                    color=colours[regime], label=regime)
        ax.set_xlabel(xlabel)
        ax.axvline(0, color="black", linewidth=0.5)
        ax.grid(axis="x", alpha=0.3)
    labels = [f"{m.label} *" if m.key == default else m.label for m in methods]
    axes[0].set_yticks(ys, labels, fontsize=8)
    axes[0].invert_yaxis()
    axes[0].legend(loc="lower right", fontsize=8)
    cfg = result.config
    fig.suptitle(f"{title} {cfg['shape'][0]} x {cfg['shape'][1]}: held-out datasets, "
                 f"{cfg['seeds']} repetitions (* the default; score-alone rows on their "
                 "score's pairs)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
