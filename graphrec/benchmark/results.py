"""A benchmark's result (`BenchmarkResult`: every method's metrics per repetition) and its
Markdown tables, for the paper's protocol (`paper_markdown`) and the held-out one
(`holdout_markdown`, with `compare_default`).

The runner fills a result, the reports (`report`, `holdout_report`) write it to files and
plots; all of them read the types here, and this module reads none of them.

Which method is "best" on the held-out protocol is decided on the same pairs: a proxy
score alone covers only the pairs that have it, so it is compared with every other method
on those pairs (`<regime>_<metric>@<score>`), and learnt methods with each other on all
hidden pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .holdout import HOLDOUT_METRICS, REGIMES
from .methods import SCORE_METHOD
from .metrics import BUCKETS
from .paper import AUTHORS_MEASURED, PAPER_SHAPE, PAPER_TABLE

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "LOWER_IS_BETTER", "BenchmarkResult", "MethodResult", "compare_default",
           "holdout_markdown", "paper_markdown", "subset_suffix"]


@dataclass
class MethodResult:
    """One method's metrics per repetition, its wall time and peak memory."""

    key: str
    label: str
    features: str
    note: str
    repetitions: list[dict[str, float]]
    seconds: float
    peak_rss_mib: float | None

    def summary(self) -> dict[str, tuple[float, float]]:
        """metric -> (mean, sample std) over repetitions, NaN-skipping."""
        out = {}
        for metric in self.repetitions[0]:
            values = np.array([r[metric] for r in self.repetitions], dtype=np.float64)
            values = values[np.isfinite(values)]
            mean = float(values.mean()) if len(values) else float("nan")
            std = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
            out[metric] = (mean, std)
        return out


@dataclass
class BenchmarkResult:
    config: dict[str, Any]
    methods: list[MethodResult] = field(default_factory=list)

    @property
    def paper_shape(self) -> bool:
        """Whether the paper's figures apply: its matrix shape and complete."""
        return tuple(self.config["shape"]) == PAPER_SHAPE and self.config["complete"]

    def method(self, key: str) -> MethodResult:
        for m in self.methods:
            if m.key == key:
                return m
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        return {"config": self.config,
                "methods": [{"key": m.key, "label": m.label, "features": m.features,
                             "note": m.note, "seconds": m.seconds,
                             "peak_rss_mib": m.peak_rss_mib,
                             "summary": {k: {"mean": v[0], "std": v[1]}
                                         for k, v in m.summary().items()},
                             "repetitions": m.repetitions} for m in self.methods]}

    def to_frame(self, repetitions: bool = False) -> pd.DataFrame:
        """A DataFrame, one row per method and metric: mean and std over repetitions (the
        figures of the tables), seconds and peak memory; `repetitions`: one row per
        method, repetition and metric with its value instead."""
        from ..frames import rows_frame

        if repetitions:
            rows = [{"method": m.key, "repetition": i, "metric": k, "value": v}
                    for m in self.methods for i, rep in enumerate(m.repetitions)
                    for k, v in rep.items()]
            return rows_frame(rows, ["method", "repetition", "metric", "value"])
        rows = [{"method": m.key, "label": m.label, "metric": k, "mean": mean, "std": std,
                 "seconds": m.seconds, "peak_rss_mib": m.peak_rss_mib}
                for m in self.methods for k, (mean, std) in m.summary().items()]
        return rows_frame(rows, ["method", "label", "metric", "mean", "std", "seconds",
                                 "peak_rss_mib"])

    def markdown(self) -> str:
        """The result as Markdown tables, for the protocol it was run with."""
        if self.config.get("protocol") == "holdout":
            return holdout_markdown(self)
        return paper_markdown(self)


# -- the paper's protocol ------------------------------------------------------------

#: Table columns: metric key -> header. Paper metrics first, then the strict ones.
COLUMNS: dict[str, str] = {
    "avg": "Avg", **{name: name.capitalize() if name == "cold" else name
                     for name, _, _ in BUCKETS},
    "spearman_unknown": "ρ unknown", "top1_hit": "top-1 hit",
    "top1_regret": "top-1 regret (pts)", "ndcg3": "NDCG@3",
}


def _paper_cell(mean: float, std: float | None, digits: int = 3) -> str:
    if mean is None or not math.isfinite(mean):
        return ""
    text = f"{mean:.{digits}f}"
    if std is not None and math.isfinite(std):
        text += f" ± {std:.{digits}f}"
    return text


def paper_markdown(result: BenchmarkResult) -> str:
    """The table: one row per method, mean ± std over repetitions; on the paper's matrix,
    the paper's Table 2 row (and the authors' script's published figures) under ours."""
    cfg = result.config
    head = ["method", "features", *COLUMNS.values(), "time (s)", "peak RSS (MiB)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    paper = result.paper_shape
    for m in result.methods:
        summary = m.summary()
        cells = [_paper_cell(*summary.get(k, (math.nan, None))) for k in COLUMNS]
        mem = "" if m.peak_rss_mib is None else f"{m.peak_rss_mib:.0f}"
        lines.append(f"| **{m.label}** | {m.features} | " + " | ".join(cells)
                     + f" | {m.seconds:.1f} | {mem} |")
        refs = []
        if paper and m.key in PAPER_TABLE:
            refs.append(PAPER_TABLE[m.key])
        if paper and m.key == "scg4trf-given":
            refs += [PAPER_TABLE["scg4trf"], AUTHORS_MEASURED]
        if paper and m.key == "g4trf-given":
            refs.append(PAPER_TABLE["g4trf"])
        for label, figures in refs:
            cells = [_paper_cell(*figures[k], digits=2 if label.endswith("(paper)") else 3)
                     if k in figures else "" for k in COLUMNS]
            lines.append(f"| *{label}* | | " + " | ".join(cells) + " | | |")
    notes = [f"- **{m.label}** ({m.key}): {m.note}" for m in result.methods if m.note]
    caption = (f"{cfg['shape'][0]} models x {cfg['shape'][1]} datasets, {cfg['seeds']} "
               f"repetitions, {cfg['masks']} masks; GATs: Avg after {cfg['avg_epochs']} "
               f"epochs, the rest after {cfg['epochs']}. Avg: Pearson of each completed column; "
               "buckets: Spearman of completed columns grouped by unknown share (Cold = no "
               "known entry); ρ unknown, top-1 and NDCG@3 score unknown entries only.")
    if not paper:
        caption += " The paper's figures are for its 10 x 270 matrix and are not shown."
    return "\n".join([*lines, "", caption, *(["", *notes] if notes else [])])


# -- the held-out protocol -----------------------------------------------------------

LOWER_IS_BETTER = {"regret"}


def _cell(value: tuple[float, float] | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value[0]):
        return ""
    text = f"{value[0]:.{digits}f}"
    return text + (f" ± {value[1]:.{digits}f}" if math.isfinite(value[1]) else "")


def subset_suffix(key: str) -> str:
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
                name = f"{regime}_{metric}{subset_suffix(key)}"
                other = summary.get(name, (math.nan,))[0]
                mine = summaries[default].get(name, (math.nan,))[0]
                if not (math.isfinite(other) and math.isfinite(mine)):
                    continue
                gap = (mine - other) if metric in LOWER_IS_BETTER else (other - mine)
                if best is None or gap > best["gap"]:
                    best = {"regime": regime, "metric": metric, "default": mine,
                            "best": key, "best_value": other, "gap": gap,
                            "pairs": "all" if not subset_suffix(key) else subset_suffix(key)[1:]}
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
        cells = [_cell(s.get(f"{r}_{k}{subset_suffix(m.key)}"), digits[k]) for r, k in cols]
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
