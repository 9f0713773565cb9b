"""How well one dataset's ranking of models serves a user: the top of it counts most.

Shared by the benchmark's held-out protocol and by the `auto` predictor, which makes its
choice on the same figures; plain numpy and scipy, no graphrec imports.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dataset_metrics", "nanmean", "recall_at", "top1_tied", "weighted_tau"]


def weighted_tau(truth: np.ndarray, scores: np.ndarray) -> float:
    """scipy's weighted Kendall tau (hyperbolic weights, both rankings averaged): agreement
    at the top counts most, as in the LogME, SFDA and Model Spider papers. NaN for fewer
    than 2 entries or a constant side."""
    from scipy.stats import weightedtau  # scipy.stats takes ~1 s to import: only when used

    truth, scores = np.asarray(truth, np.float64), np.asarray(scores, np.float64)
    if len(truth) < 2 or np.ptp(truth) == 0 or np.ptp(scores) == 0:
        return float("nan")
    return float(weightedtau(truth, scores).statistic)


def top1_tied(truth: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """(hit, regret) of the entry scored highest; a tie at the top counts as the mean over
    the tied entries (what picking one of them at random would give on average)."""
    truth, scores = np.asarray(truth, np.float64), np.asarray(scores, np.float64)
    top = scores >= scores.max()
    best = truth.max()
    return float((truth[top] >= best).mean()), float(best - truth[top].mean())


def recall_at(truth: np.ndarray, scores: np.ndarray, k: int = 3) -> float:
    """The chance that a truly best entry is among the `k` scored highest, ties in the
    scores broken at random: for the best entry's score s, with g entries scored above s
    and t scored exactly s (itself included), clip((k - g) / t, 0, 1). With several truly
    best entries, the one scored highest counts."""
    truth, scores = np.asarray(truth, np.float64), np.asarray(scores, np.float64)
    s = scores[truth >= truth.max()].max()
    above, tied = int((scores > s).sum()), int((scores == s).sum())
    return float(np.clip((k - above) / tied, 0.0, 1.0))


def dataset_metrics(truth: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """`wtau`, `hit`, `regret` (points, x100) and `recall3` of one dataset's entries."""
    hit, regret = top1_tied(truth, scores)
    return {"wtau": weighted_tau(truth, scores), "hit": hit, "regret": 100.0 * regret,
            "recall3": recall_at(truth, scores, 3)}


def nanmean(values: object) -> float:
    """The mean of the finite values (NaN when there are none): datasets with no figure
    (fewer than two entries, a constant column) do not count."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if len(arr) else float("nan")
