"""Sums over edges grouped by a node id: the normal equations of a ridge regression with a
one-hot column per node name, without the one-hot design (edges x names) ever being built.
`LinearPredictor` solves its identity offsets with them.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["group_sum", "lookup_offsets", "shared_gram"]


def group_sum(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Row k of the result: the sum of the rows of `values` whose `index` is k (float64)."""
    out = torch.zeros((n, *values.shape[1:]), dtype=torch.float64)
    out.index_add_(0, torch.from_numpy(np.ascontiguousarray(index, dtype=np.int64)),
                   torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)))
    return out.numpy()


def shared_gram(small: np.ndarray, large: np.ndarray, weight: np.ndarray, n_small: int,
                 chunk: int = 1 << 22) -> np.ndarray:
    """`sum_l weight[l] c_l c_l^T`, with `c_l[s]` the number of edges e where
    `(small[e], large[e]) == (s, l)`: an (n_small, n_small) matrix.

    Every ordered pair of edges that share their `large` id adds its weight at
    `[small[e], small[e']]`; the pairs are made `chunk` at a time, so the work and memory are
    O(sum of squared group sizes) and O(chunk + n_small^2).
    """
    out = np.zeros(n_small * n_small)
    if len(large) == 0:
        return out.reshape(n_small, n_small)
    order = np.argsort(large, kind="stable")
    small, large = small[order], large[order]
    starts = np.flatnonzero(np.r_[True, large[1:] != large[:-1]])
    sizes = np.diff(np.r_[starts, len(large)])
    first, size = np.repeat(starts, sizes), np.repeat(sizes, sizes)  # per edge: its group
    ends = np.cumsum(size)
    lo = 0
    while lo < len(large):
        hi = max(lo + 1, int(np.searchsorted(ends, ends[lo] - size[lo] + chunk, side="right")))
        k = size[lo:hi]
        a = np.repeat(np.arange(lo, hi), k)
        b = np.repeat(first[lo:hi] - (np.cumsum(k) - k), k) + np.arange(len(a))
        out += np.bincount(small[a] * n_small + small[b], weights=weight[large[a]],
                           minlength=n_small * n_small)
        lo = hi
    return out.reshape(n_small, n_small)


def lookup_offsets(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """`table[ids]`, 0 where an id is -1 (a name `fit` never saw, or no identity)."""
    if len(table) == 0:
        return np.zeros(len(ids))
    return np.where(ids >= 0, table[np.maximum(ids, 0)], 0.0)
