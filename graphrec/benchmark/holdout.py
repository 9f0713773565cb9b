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

from ..predict.graph import column_ranks, hidden_counts
from ..ranking import dataset_metrics, nanmean, recall_at, top1_tied, weighted_tau
from .metrics import column_spearman

__all__ = [
    "HOLDOUT_METRICS",
    "REGIMES",
    "dataset_metrics",
    "holdout_mask",
    "holdout_metrics",
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


def holdout_mask(seed: int, observed: np.ndarray, cold: float = 0.25, hidden: float = 0.5
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(known, cold datasets): `known` (models x datasets, bool) marks the training entries
    among `observed`; `cold_datasets` (datasets, bool) the datasets held out whole.

    round(cold x eligible) datasets are drawn among those with >= 2 observed entries (at
    least one when `cold` > 0 and any is eligible); every other dataset with n observed
    entries keeps n - min(n - 1, round(hidden x n)) of them, drawn uniformly. A numpy seed,
    vectorised: one random key per entry, ranked within its column.
    """
    observed = np.asarray(observed, dtype=bool)
    if observed.ndim != 2:
        raise ValueError(f"observed must be a 2-D bool matrix, got shape {observed.shape}")
    for what, value in (("cold", cold), ("hidden", hidden)):
        if isinstance(value, bool) or not 0 <= float(value) <= 1:
            raise ValueError(f"{what} must be a fraction in [0, 1], got {value!r}")
    rng = np.random.default_rng(seed)
    count = observed.sum(axis=0)
    eligible = np.flatnonzero(count >= 2)
    n_cold = round(float(cold) * len(eligible))
    if cold > 0 and len(eligible):
        n_cold = max(1, n_cold)
    cold_datasets = np.zeros(observed.shape[1], dtype=bool)
    cold_datasets[rng.choice(eligible, n_cold, replace=False) if n_cold else []] = True
    rank = column_ranks(observed, rng)
    known = observed & (rank >= hidden_counts(count, hidden)[None, :]) & ~cold_datasets[None, :]
    return known, cold_datasets


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
