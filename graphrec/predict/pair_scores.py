"""Proxy scores (the SCORED edges: LogME, LEEP, NCE, H-Score, ...) as pair features.

A proxy score is computed per (model, dataset) pair from a forward pass, so it can exist
for a dataset with no fine-tuning history at all: the one place where a cold-start dataset
carries pair-level evidence rather than metadata alone. Raw scores are not comparable
across datasets (LogME moves with the number of classes, LEEP with the source model's
confidence), and what a recommender needs from them is the order of the models within a
dataset. So each metric becomes one feature: the score standardised within its dataset
(z-score over the models scored on it), 0 where the pair has no score or the dataset's
scores do not vary. A dataset without any score gets 0 everywhere, so predictors with
`use_scores` on work unchanged on graphs that hold none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .graph import PairLookup, TransferGraph

__all__ = ["PairScores", "select_metrics"]


def select_metrics(graph: TransferGraph, use_scores: bool | str | Sequence[str]) -> list[str]:
    """The metrics a predictor reads: every metric of `graph` (True), none (False), or the
    named ones, each of which `graph` must hold."""
    if isinstance(use_scores, bool):
        return sorted(graph.scores) if use_scores else []
    wanted = [use_scores] if isinstance(use_scores, str) else [str(m) for m in use_scores]
    missing = [m for m in wanted if m not in graph.scores]
    if missing:
        have = ", ".join(sorted(graph.scores)) or "none"
        raise ValueError(f"use_scores names {', '.join(missing)}, but the graph has no such "
                         f"SCORED edges (it has: {have}); compute them with `graphrec score` "
                         "or ingest a score matrix first")
    return list(dict.fromkeys(wanted))


def check_use_scores(value: object) -> None:
    """Constructor check: True, False, a metric name or a list of names."""
    if isinstance(value, bool | str):
        return
    if isinstance(value, list | tuple) and all(isinstance(m, str) for m in value):
        return
    raise ValueError(f"use_scores must be True, False, a metric name or a list of metric "
                     f"names, got {value!r}")


class PairScores:
    """Within-dataset z-scores of the chosen metrics for (model, dataset) pairs."""

    def __init__(self, metrics: Sequence[str]) -> None:
        self.metrics = list(metrics)

    @property
    def width(self) -> int:
        return len(self.metrics)

    def transform(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        """(P, width) float64 features of `pairs` [model index, dataset index] of `graph`."""
        return self.bind(graph)(pairs)

    def bind(self, graph: TransferGraph) -> Callable[[np.ndarray], np.ndarray]:
        """`transform` for one graph, called many times (a predictor scoring pairs chunk
        by chunk): each metric's per-dataset mean and spread, and its pairs sorted for
        lookup, are computed once here."""
        tables = []
        for metric in self.metrics:
            known, values = graph.scores.get(metric, (np.zeros((0, 2), np.int64), np.zeros(0)))
            d = graph.num_datasets
            count = np.bincount(known[:, 1], minlength=d).astype(np.float64)
            mean = np.bincount(known[:, 1], weights=values, minlength=d) / np.maximum(count, 1)
            var = np.bincount(known[:, 1], weights=(values - mean[known[:, 1]]) ** 2,
                              minlength=d) / np.maximum(count, 1)
            sd = np.sqrt(var)
            usable = sd > 1e-12 * np.maximum(1.0, np.abs(mean))
            z = np.zeros(len(values))
            ok = usable[known[:, 1]]
            z[ok] = (values[ok] - mean[known[ok, 1]]) / sd[known[ok, 1]]
            tables.append((PairLookup(known[:, 0], known[:, 1], d), z))

        def features(pairs: np.ndarray) -> np.ndarray:
            pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
            out = np.zeros((len(pairs), self.width))
            for k, (lookup, z) in enumerate(tables):
                at = lookup.find(pairs[:, 0], pairs[:, 1])
                hit = at >= 0
                out[hit, k] = z[at[hit]]
            return out

        return features

    def dense(self, graph: TransferGraph) -> np.ndarray:
        """(models, datasets, width) features of every pair, for the stacked GAT."""
        return self.transform(graph, graph.all_pairs()).reshape(
            graph.num_models, graph.num_datasets, self.width)
