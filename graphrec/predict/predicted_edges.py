"""The PREDICTED edges: which pairs get one and how they are written.

`predict` scores the unobserved pairs of a graph a block of datasets at a time, keeps the
`top_k` best per dataset if asked, and writes them as PREDICTED edges of one version of a
predictor; `predict --workers N` (`shards`) does the same in N processes, a cold start
(`cold`) for one new dataset. This module is what they share.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import queries
from ..ingest import utc_now
from ..store import Store
from .graph import TransferGraph
from .intervals import Bounds

__all__ = ["WRITE_BATCH", "none_if_nan", "score_chunk", "write_predictions"]

WRITE_BATCH = 5_000  # predicted edges written per statement


def _top_k(pairs: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best-scored pairs of each dataset (vectorised)."""
    order = np.lexsort((-scores, pairs[:, 1]))  # by dataset, best first
    ds = pairs[order, 1]
    starts = np.r_[0, np.flatnonzero(np.diff(ds)) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return order[rank < k]


def _unobserved_pairs(graph: TransferGraph, datasets: np.ndarray) -> np.ndarray:
    """Every (model, dataset) pair of `datasets` that has no observed edge."""
    m, d = np.meshgrid(np.arange(graph.num_models), datasets, indexing="ij")
    pairs = np.stack([m.ravel(), d.ravel()], axis=1)
    in_chunk = np.isin(graph.edges[:, 1], datasets)
    known = graph.edges[in_chunk]
    if len(known):
        key = pairs[:, 0] * graph.num_datasets + pairs[:, 1]
        observed = known[:, 0] * graph.num_datasets + known[:, 1]
        pairs = pairs[~np.isin(key, observed)]
    return pairs


def score_chunk(graph: TransferGraph, score: Callable[[np.ndarray], np.ndarray],
                chunk: np.ndarray, top_k: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(pairs, scores) of the unobserved pairs of the datasets `chunk`, cut to the top
    `top_k` per dataset."""
    pairs = _unobserved_pairs(graph, chunk)
    if not len(pairs):
        return pairs, np.zeros(0)
    scores = score(pairs)
    if top_k is not None:
        keep = _top_k(pairs, scores, top_k)
        pairs, scores = pairs[keep], scores[keep]
    return pairs, scores


def write_predictions(store: Store, graph: TransferGraph, pairs: np.ndarray,
                      scores: np.ndarray, predictor_id: str, version: str,
                      bounds: Bounds | None = None) -> None:
    """Write scored `pairs` of `graph` as PREDICTED edges of one predictor's version, with
    their intervals where the predictor has them (`bounds`)."""
    write = queries.get("predict/write-predictions").text
    now = utc_now()  # when this batch was written
    low, high = bounds(pairs, scores) if bounds else (np.full(len(pairs), np.nan),) * 2
    for at in range(0, len(pairs), WRITE_BATCH):
        end = at + WRITE_BATCH
        rows = [[graph.models[m], graph.datasets[d], float(s), none_if_nan(lo), none_if_nan(hi)]
                for (m, d), s, lo, hi in zip(pairs[at:end], scores[at:end], low[at:end],
                                             high[at:end], strict=True)]
        store.run(write, {"rows": rows, "predictor": predictor_id, "version": version,
                          "now": now}, write=True)


def none_if_nan(x: float) -> float | None:
    """A stored interval bound: NaN (none) as null."""
    return None if np.isnan(x) else float(x)
