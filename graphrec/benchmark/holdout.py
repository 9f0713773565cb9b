"""The held-out-datasets protocol: how a predictor does on the datasets a user brings.

The paper's protocol (`masks`, `metrics`) grades completed columns of one matrix; a user of
a recommender acts on the top of one dataset's ranking, often for a dataset with no history
at all. One repetition here, with seed r:

1. `cold` of the datasets (default a quarter) are held out entirely: no known entry
   (cold start). Only datasets with at least two observed entries can be drawn.
2. In every other dataset, `hidden` of its observed entries (default half, at most all but
   one) are hidden: the partial datasets.
3. Every method trains on the same known entries. Proxy scores stay known for every pair:
   computing one needs no fine-tuning, so a user has them for a new dataset too.
4. Each method is scored on the hidden entries only, dataset by dataset, then averaged over
   datasets, cold and partial apart (`holdout_metrics`).

Because a proxy score covers only some pairs, every method is also scored on the hidden
pairs that have each metric (keys `<regime>_<metric>@<score>`), so that "LogME alone" and a
predictor are compared on the same pairs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..predict.graph import holdout_mask
from ..ranking import dataset_metrics, nanmean, recall_at, top1_tied, weighted_tau
from .metrics import column_spearman

__all__ = [
    "HOLDOUT_METRICS",
    "REGIMES",
    "dataset_metrics",
    "holdout_mask",
    "holdout_metrics",
    "interval_metrics",
    "recall_at",
    "top1_tied",
    "weighted_tau",
]

#: What each regime is scored on, key -> header.
HOLDOUT_METRICS: dict[str, str] = {
    "wtau": "weighted τ", "spearman": "Spearman", "regret": "top-1 regret (pts)",
    "hit": "top-1 hit", "recall3": "recall@3",
}
REGIMES = ("cold", "partial")


def holdout_metrics(truth: np.ndarray, known: np.ndarray, cold_datasets: np.ndarray,
                    scores: np.ndarray, coverage: Mapping[str, np.ndarray] | None = None
                    ) -> dict[str, float]:
    """One repetition's figures: `<regime>_<metric>` over the hidden entries of each
    dataset with at least two, averaged over the regime's datasets; with `coverage`
    (metric -> models x datasets bool, the pairs that have that proxy score), the same on
    the hidden pairs that have each score, as `<regime>_<metric>@<score>`. Also
    `<regime>_datasets`, how many datasets were scored."""
    truth = np.asarray(truth, dtype=np.float64)
    hidden = np.isfinite(truth) & ~np.asarray(known, dtype=bool)
    out: dict[str, float] = {}
    subsets = {"": hidden, **{f"@{k}": hidden & np.asarray(v, bool)
                              for k, v in (coverage or {}).items()}}
    for suffix, valid in subsets.items():
        enough = valid.sum(axis=0) >= 2
        spearman = column_spearman(truth, scores, valid & enough[None, :])
        for regime, columns in (("cold", cold_datasets), ("partial", ~cold_datasets)):
            chosen = np.flatnonzero(enough & columns)
            per: dict[str, list[float]] = {k: [] for k in HOLDOUT_METRICS}
            for j in chosen:
                rows = valid[:, j]
                for k, v in dataset_metrics(truth[rows, j], scores[rows, j]).items():
                    per[k].append(v)
                per["spearman"].append(float(spearman[j]))
            for k in HOLDOUT_METRICS:
                out[f"{regime}_{k}{suffix}"] = nanmean(per[k])
            out[f"{regime}_datasets{suffix}"] = float(len(chosen))
    return out


def interval_metrics(truth: np.ndarray, known: np.ndarray, cold_datasets: np.ndarray,
                     low: np.ndarray, high: np.ndarray) -> dict[str, float]:
    """`<regime>_coverage`, the share of hidden accuracies inside [low, high], and
    `<regime>_width`, the intervals' mean width, over all hidden entries of the regime
    (low and high: models x datasets)."""
    truth = np.asarray(truth, dtype=np.float64)
    hidden = np.isfinite(truth) & ~np.asarray(known, dtype=bool)
    inside = (low <= truth) & (truth <= high)
    out = {}
    for regime, columns in (("cold", cold_datasets), ("partial", ~cold_datasets)):
        rows = hidden & columns[None, :]
        n = int(rows.sum())
        out[f"{regime}_coverage"] = float(inside[rows].mean()) if n else float("nan")
        out[f"{regime}_width"] = float((high - low)[rows].mean()) if n else float("nan")
    return out
