"""The held-out protocol's result for people (Markdown tables, a plot) and for scripts.

Which method is "best" is decided on the same pairs: a proxy score alone covers only the
pairs that have it, so it is compared with every other method on those pairs
(`<regime>_<metric>@<score>`), and learnt methods with each other on all hidden pairs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .holdout import HOLDOUT_METRICS, REGIMES
from .methods import SCORE_METHOD

if TYPE_CHECKING:
    from pathlib import Path

    from .runner import BenchmarkResult

__all__ = ["LOWER_IS_BETTER", "compare_default", "holdout_markdown", "holdout_plot"]

LOWER_IS_BETTER = {"regret"}


def _cell(value: tuple[float, float] | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value[0]):
        return ""
    text = f"{value[0]:.{digits}f}"
    return text + (f" ± {value[1]:.{digits}f}" if math.isfinite(value[1]) else "")


def _subset(key: str) -> str:
    """The pairs a method is judged on: its own score's pairs for `score:<metric>`."""
    return "@" + key[len(SCORE_METHOD):] if key.startswith(SCORE_METHOD) else ""


def compare_default(result: BenchmarkResult, default: str = "auto",
                    metrics: tuple[str, ...] = ("wtau", "regret")) -> list[dict[str, Any]]:
    """For each regime and metric: the default's figure, the best other method's on the
    same pairs, and the gap (positive = the default is behind)."""
    summaries = {m.key: m.summary() for m in result.methods}
    if default not in summaries:
        return []
    rows = []
    for regime in REGIMES:
        for metric in metrics:
            best: dict[str, Any] | None = None
            for key, summary in summaries.items():
                if key == default:
                    continue
                name = f"{regime}_{metric}{_subset(key)}"
                other = summary.get(name, (math.nan,))[0]
                mine = summaries[default].get(name, (math.nan,))[0]
                if not (math.isfinite(other) and math.isfinite(mine)):
                    continue
                gap = (mine - other) if metric in LOWER_IS_BETTER else (other - mine)
                if best is None or gap > best["gap"]:
                    best = {"regime": regime, "metric": metric, "default": mine,
                            "best": key, "best_value": other, "gap": gap,
                            "pairs": "all" if not _subset(key) else _subset(key)[1:]}
            if best is not None:
                rows.append(best)
    return rows


def holdout_markdown(result: BenchmarkResult, default: str = "auto") -> str:
    """One row per method: every metric of both regimes (mean ± std over repetitions);
    then each method on each proxy score's pairs; then the default against the best."""
    cfg = result.config
    cols = [(r, k) for r in REGIMES for k in HOLDOUT_METRICS]
    head = ["method", *(f"{r} {HOLDOUT_METRICS[k]}" for r, k in cols), "time (s)",
            "peak RSS (MiB)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in result.methods:
        s = m.summary()
        digits = {k: 2 if k == "regret" else 3 for k in HOLDOUT_METRICS}
        cells = [_cell(s.get(f"{r}_{k}{_subset(m.key)}"), digits[k]) for r, k in cols]
        mem = "" if m.peak_rss_mib is None else f"{m.peak_rss_mib:.0f}"
        label = f"**{m.label}**" if m.key == default else m.label
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {m.seconds:.1f} | {mem} |")
    scores = cfg.get("scores", [])
    if scores:
        head = ["method", *(f"{r} {k} @{s}" for s in scores for r in REGIMES
                            for k in ("wtau", "regret"))]
        lines += ["", "On the hidden pairs that have each proxy score:", "",
                  "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for m in result.methods:
            s = m.summary()
            cells = [_cell(s.get(f"{r}_{k}@{sc}"), 2 if k == "regret" else 3)
                     for sc in scores for r in REGIMES for k in ("wtau", "regret")]
            lines.append(f"| {m.label} | " + " | ".join(cells) + " |")
    if cfg.get("intervals"):
        head = ["method", *(f"{r} {k}" for r in REGIMES for k in ("coverage", "width"))]
        lines += ["", f"{cfg['intervals']:.0%} intervals, calibrated on each repetition's "
                      "known entries: the share of hidden accuracies inside (goal near "
                      f"{cfg['intervals']:.2f}) and the mean width:", "",
                  "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for m in result.methods:
            s = m.summary()
            cells = [_cell(s.get(f"{r}_{k}")) for r in REGIMES for k in ("coverage", "width")]
            lines.append(f"| {m.label} | " + " | ".join(cells) + " |")
    gaps = compare_default(result, default)
    if gaps:
        lines += ["", f"`{default}` against the best other method on the same pairs "
                      "(gap > 0: the default is behind):", "",
                  "| regime | metric | default | best other | on pairs | gap |",
                  "|---|---|---|---|---|---|"]
        for g in gaps:
            lines.append(f"| {g['regime']} | {g['metric']} | {g['default']:.3f} | "
                         f"{g['best']} {g['best_value']:.3f} | {g['pairs']} | "
                         f"{g['gap']:+.3f} |")
    cold_n = cfg.get("cold_datasets", [])
    caption = (f"{cfg['shape'][0]} models x {cfg['shape'][1]} datasets ({cfg['observed']} "
               f"observed), {cfg['seeds']} repetitions from seed {cfg.get('first_seed', 0)}: "
               f"{cfg['cold']:.0%} of the datasets held out whole (cold: "
               f"{min(cold_n, default=0)}-{max(cold_n, default=0)} per repetition), "
               f"{cfg['hidden']:.0%} of the other datasets' entries hidden (partial). Metrics "
               "on hidden entries only, per dataset, then averaged: weighted Kendall tau, "
               "Spearman, top-1 regret in points (ties at the top averaged), top-1 hit rate, "
               "recall@3.")
    return "\n".join([*lines, "", caption])


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
                mean, std = m.summary().get(f"{regime}_{metric}{_subset(m.key)}",
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
