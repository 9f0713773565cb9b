"""Scores of one benchmark repetition: how well a completed matrix ranks the models.

All functions work column by column (a column is a dataset, its entries the models) and are
vectorised over columns: no Python loop over datasets, so a 100,000-dataset matrix costs a
few array passes. `valid` masks say which entries of a column take part (observed entries,
or unknown ones for the strict metrics); a column with fewer than two valid entries, or a
constant one, has no correlation (NaN), and means skip NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "BUCKETS",
    "bucket_means",
    "column_pearson",
    "column_spearman",
    "evaluate",
    "ndcg_at",
    "rank_columns",
    "top1",
]

#: The paper's buckets: columns sorted by number of unknown entries, most first, cut at these
#: fractions of the column count (the authors' thresholds). With the paper's design the first
#: bucket is exactly the cold-start group; names follow the paper's Table 2 (known share).
BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("cold", 0.0, 0.1), ("0~20%", 0.1, 0.3), ("20~40%", 0.3, 0.5), ("40~60%", 0.5, 0.7),
    ("60~80%", 0.7, 0.9), ("80~100%", 0.9, 1.0),
)


def rank_columns(values: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Ranks (1 = smallest) within each column over its valid entries, ties averaged, as
    `scipy.stats.rankdata(method="average")` per column; NaN where not valid."""
    values = np.asarray(values, dtype=np.float64)
    valid = np.isfinite(values) if valid is None else np.asarray(valid, bool) & np.isfinite(
        values)
    col = np.broadcast_to(np.arange(values.shape[1]), values.shape)
    flat_v, flat_c = values[valid], col[valid]
    order = np.lexsort((flat_v, flat_c))
    v, c = flat_v[order], flat_c[order]
    new_group = np.r_[True, (v[1:] != v[:-1]) | (c[1:] != c[:-1])]
    group = np.cumsum(new_group) - 1
    col_start = np.searchsorted(c, c, side="left")
    position = np.arange(len(v)) - col_start + 1.0  # 1-based position within the column
    mean_rank = np.bincount(group, weights=position) / np.bincount(group)
    ranks = np.empty(len(v))
    ranks[order] = mean_rank[group]
    out = np.full(values.shape, np.nan)
    out[valid] = ranks
    return out


def column_pearson(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Pearson correlation of each column of `a` with the same column of `b`, over the entries
    where `valid` (default: both finite). NaN for fewer than 2 entries or zero variance."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    n = ok.sum(axis=0)
    a0, b0 = np.where(ok, a, 0.0), np.where(ok, b, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma, mb = a0.sum(axis=0) / n, b0.sum(axis=0) / n
        da, db = np.where(ok, a - ma, 0.0), np.where(ok, b - mb, 0.0)
        saa, sbb = (da * da).sum(axis=0), (db * db).sum(axis=0)
        r = (da * db).sum(axis=0) / np.sqrt(saa * sbb)
    # A column constant up to rounding has no correlation (scipy warns and returns NaN).
    flat = (saa <= 1e-24 * np.maximum(1.0, (a0 * a0).sum(axis=0))) | (
        sbb <= 1e-24 * np.maximum(1.0, (b0 * b0).sum(axis=0)))
    r = np.where((n < 2) | flat, np.nan, r)
    return np.clip(r, -1.0, 1.0)


def column_spearman(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Spearman correlation per column (Pearson of the tie-averaged ranks) over `valid`."""
    ok = np.isfinite(np.asarray(a, np.float64)) & np.isfinite(np.asarray(b, np.float64))
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    return column_pearson(rank_columns(a, ok), rank_columns(b, ok), ok)


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


def bucket_means(per_column: np.ndarray, unknown_count: np.ndarray,
                 buckets: Sequence[tuple[str, float, float]] = BUCKETS) -> dict[str, float]:
    """Mean of a per-column score in each bucket of columns ordered by unknown count, most
    first (stable, so equal counts keep column order; with the paper's design the cut points
    fall between groups and the order within a group does not matter)."""
    order = np.argsort(-np.asarray(unknown_count), kind="stable")
    n = len(order)
    return {name: _nanmean(per_column[order[int(lo * n):int(hi * n)]])
            for name, lo, hi in buckets}


def top1(truth: np.ndarray, scores: np.ndarray, valid: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray]:
    """Per column over its valid entries: (hit, regret). `hit` is 1.0 when the entry scored
    highest is a truly best one; `regret` is the best true value minus the true value of the
    entry scored highest. NaN for columns with fewer than 2 valid entries."""
    truth = np.asarray(truth, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    cols = np.arange(truth.shape[1])
    picked = np.argmax(np.where(valid, scores, -np.inf), axis=0)
    best = np.max(np.where(valid, truth, -np.inf), axis=0)
    got = truth[picked, cols]
    enough = valid.sum(axis=0) >= 2
    hit = np.where(enough, (got >= best).astype(np.float64), np.nan)
    regret = np.where(enough, best - got, np.nan)
    return hit, regret


def ndcg_at(truth: np.ndarray, scores: np.ndarray, valid: np.ndarray, k: int = 3) -> np.ndarray:
    """NDCG@k per column over its valid entries, the true values as gains:
    `sum_{i<k} truth[pi_i] / log2(i + 2)` for the order pi by score, over the same sum for the
    order by truth. NaN for columns with fewer than 2 valid entries."""
    truth = np.asarray(truth, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    discount = 1.0 / np.log2(np.arange(truth.shape[0]) + 2.0)
    discount[k:] = 0.0

    def dcg(order_by: np.ndarray) -> np.ndarray:
        order = np.argsort(-np.where(valid, order_by, -np.inf), axis=0, kind="stable")
        gains = np.take_along_axis(np.where(valid, truth, 0.0), order, axis=0)
        return (gains * discount[:, None]).sum(axis=0)

    with np.errstate(invalid="ignore", divide="ignore"):
        out = dcg(scores) / dcg(truth)
    return np.where(valid.sum(axis=0) >= 2, out, np.nan)


def evaluate(truth: np.ndarray, known: np.ndarray, avg_scores: np.ndarray,
             scores: np.ndarray) -> dict[str, float]:
    """Every metric of one repetition.

    - `truth`: models x datasets accuracies, NaN where never observed (not scored);
    - `known`: bool, the entries the predictor was trained on;
    - `avg_scores` / `scores`: the predictor's scores for every entry, `avg_scores` at the
      epoch the paper reports "Avg" at (300), `scores` at the end of training (500).

    The paper's metrics complete the matrix (known entries keep their true value) and
    correlate whole columns: `avg` (Pearson) and the `BUCKETS` (Spearman). The strict ones
    look at unknown entries only, in columns with at least two: `spearman_unknown`,
    `top1_hit`, `top1_regret` (accuracy points, x100) and `ndcg3`.
    """
    truth = np.asarray(truth, dtype=np.float64)
    known = np.asarray(known, dtype=bool)
    observed = np.isfinite(truth)
    unknown = observed & ~known
    completed_avg = np.where(known, truth, avg_scores)
    completed = np.where(known, truth, scores)
    out = {"avg": _nanmean(column_pearson(truth, completed_avg, observed))}
    out.update(bucket_means(column_spearman(truth, completed, observed), unknown.sum(axis=0)))
    strict = unknown.sum(axis=0) >= 2
    col_ok = unknown & strict[None, :]
    out["spearman_unknown"] = _nanmean(column_spearman(truth, scores, col_ok))
    hit, regret = top1(truth, scores, col_ok)
    out["top1_hit"] = _nanmean(hit)
    out["top1_regret"] = 100.0 * _nanmean(regret)
    out["ndcg3"] = _nanmean(ndcg_at(truth, scores, col_ok, k=3))
    return out
