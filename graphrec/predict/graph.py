"""The transferability graph as arrays: what every predictor learns from and answers about.

Index-based and backend-free, so predictors, benchmarks and notebooks can build one from the
database (`graphrec.predict.io`), from files, or by hand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import check_between

__all__ = ["PairLookup", "TransferGraph", "column_ranks", "fold_splits", "hidden_counts",
           "holdout_mask", "positions", "renumber", "renumber_scores", "sample_datasets"]


def positions(names: Sequence[str], index: Mapping[str, int]) -> np.ndarray:
    """Each name's position in a fitted vocabulary (`index`: name -> position), -1 for a
    name `fit` never saw: how predictors tie a graph's nodes to what they learnt."""
    return np.fromiter((index.get(n, -1) for n in names), dtype=np.int64, count=len(names))


class PairLookup:
    """Position of (model, dataset) pairs in a list of pairs, -1 where absent: sorted keys
    and a binary search, so looking up P pairs among E costs O((E + P) log E). The first
    of duplicate pairs is found."""

    def __init__(self, i: np.ndarray, j: np.ndarray, num_datasets: int) -> None:
        self.d = max(1, num_datasets)
        keys = np.asarray(i, dtype=np.int64) * self.d + j
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]

    def find(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if len(self.keys) == 0:
            return np.full(np.shape(i), -1, dtype=np.int64)
        keys = np.asarray(i, dtype=np.int64) * self.d + j
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where((i >= 0) & (self.keys[pos] == keys), self.order[pos], -1)


@dataclass
class TransferGraph:
    """Models x datasets with node metadata and the observed (known) accuracies.

    - `models[i]` / `datasets[j]`: names; `model_props[i]` / `dataset_props[j]`: properties
      as stored on the nodes (family, params, ..., domain, labels, ...).
    - `edges`: int64 array (E, 2) of observed [model index, dataset index] pairs.
    - `accuracy`: float64 array (E,), the observed accuracy of each edge, in [0, 1].
    - `scores`: proxy transferability scores (the SCORED edges), by metric name ("logme",
      "leep", ...): `(pairs (S, 2) int64, values (S,) float64)`. Unlike accuracies they are
      cheap to compute, so they may cover pairs with no observed accuracy; `with_edges`
      keeps them all.
    """

    models: list[str]
    datasets: list[str]
    model_props: list[dict[str, Any]]
    dataset_props: list[dict[str, Any]]
    edges: np.ndarray
    accuracy: np.ndarray
    scores: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _model_index: dict[str, int] = field(default_factory=dict, repr=False)
    _dataset_index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.edges = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        self.accuracy = np.asarray(self.accuracy, dtype=np.float64).reshape(-1)
        if len(self.edges) != len(self.accuracy):
            raise ValueError(f"{len(self.edges)} edges but {len(self.accuracy)} accuracies")
        if len(self.model_props) != len(self.models) or len(self.dataset_props) != len(
                self.datasets):
            raise ValueError("one property map per model and per dataset is needed")
        if len(self.edges) and (self.edges[:, 0].max() >= len(self.models)
                                or self.edges[:, 1].max() >= len(self.datasets)
                                or self.edges.min() < 0):
            raise ValueError("an edge points outside the model or dataset lists")
        self.scores = {str(metric): self._check_scores(metric, pairs, values)
                       for metric, (pairs, values) in dict(self.scores).items()}
        self._model_index = {n: i for i, n in enumerate(self.models)}
        self._dataset_index = {n: j for j, n in enumerate(self.datasets)}

    def _check_scores(self, metric: str, pairs: np.ndarray, values: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(pairs) != len(values):
            raise ValueError(f"{metric} scores: {len(pairs)} pairs but {len(values)} values")
        if len(pairs) and (pairs[:, 0].max() >= len(self.models) or pairs.min() < 0
                           or pairs[:, 1].max() >= len(self.datasets)):
            raise ValueError(f"a {metric} score points outside the model or dataset lists")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{np.count_nonzero(~np.isfinite(values))} {metric} scores are "
                             "NaN or infinite")
        return pairs, values

    @property
    def num_models(self) -> int:
        return len(self.models)

    @property
    def num_datasets(self) -> int:
        return len(self.datasets)

    def model_index(self, name: str) -> int:
        return self._model_index[name]

    def dataset_index(self, name: str) -> int:
        return self._dataset_index[name]

    def matrix(self) -> np.ndarray:
        """Models x datasets accuracies, NaN where unobserved."""
        out = np.full((self.num_models, self.num_datasets), np.nan)
        out[self.edges[:, 0], self.edges[:, 1]] = self.accuracy
        return out

    def all_pairs(self) -> np.ndarray:
        """Every (model, dataset) index pair, model-major."""
        m, d = np.meshgrid(np.arange(self.num_models), np.arange(self.num_datasets),
                           indexing="ij")
        return np.stack([m.ravel(), d.ravel()], axis=1)

    def with_edges(self, keep: np.ndarray) -> TransferGraph:
        """The same nodes with only the edges where `keep` (bool mask or indices) holds."""
        return TransferGraph(self.models, self.datasets, self.model_props, self.dataset_props,
                             self.edges[keep], self.accuracy[keep], self.scores)

    def score_values(self, metric: str, pairs: np.ndarray) -> np.ndarray:
        """The `metric` score of each [model, dataset] row of `pairs`, NaN where none."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        known, values = self.scores.get(metric, (np.zeros((0, 2), np.int64), np.zeros(0)))
        at = PairLookup(known[:, 0], known[:, 1], self.num_datasets).find(pairs[:, 0],
                                                                          pairs[:, 1])
        out = np.full(len(pairs), np.nan)
        out[at >= 0] = values[at[at >= 0]]
        return out


def renumber(pairs: np.ndarray, new_model: np.ndarray, new_dataset: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """(which pairs stay, those pairs in the new numbering); -1 in a map drops the node."""
    m, d = new_model[pairs[:, 0]], new_dataset[pairs[:, 1]]
    keep = (m >= 0) & (d >= 0)
    return keep, np.stack([m[keep], d[keep]], axis=1)


def renumber_scores(graph: TransferGraph, new_model: np.ndarray, new_dataset: np.ndarray
                     ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for metric, (pairs, values) in graph.scores.items():
        keep, renumbered = renumber(pairs, new_model, new_dataset)
        out[metric] = (renumbered, values[keep])
    return out


def sample_datasets(graph: TransferGraph, n: int, seed: int = 0) -> TransferGraph:
    """The graph restricted to `n` datasets drawn at random (seeded), in their order (the
    graph itself when it has no more than `n`)."""
    if n >= graph.num_datasets:
        return graph
    keep = np.sort(np.random.default_rng(seed).choice(graph.num_datasets, n, replace=False))
    new_index = np.full(graph.num_datasets, -1, dtype=np.int64)
    new_index[keep] = np.arange(n)
    same_models = np.arange(graph.num_models)
    mask, edges = renumber(graph.edges, same_models, new_index)
    return TransferGraph(graph.models, [graph.datasets[k] for k in keep], graph.model_props,
                         [graph.dataset_props[k] for k in keep], edges, graph.accuracy[mask],
                         renumber_scores(graph, same_models, new_index))


def column_ranks(observed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random order of each column's observed entries: rank 0, 1, ... within the
    column (unobserved entries rank last). Masks keep or hide entries by comparing these
    ranks with a per-column count, so one draw of `observed.shape` keys serves any count."""
    keys = np.where(observed, rng.random(observed.shape), np.inf)
    return np.argsort(np.argsort(keys, axis=0, kind="stable"), axis=0, kind="stable")


def hidden_counts(count: np.ndarray, hidden: float) -> np.ndarray:
    """How many of a dataset's `count` observed entries to hide: round(hidden x count), but
    at most all but one, so every partially known dataset keeps one known entry."""
    return np.minimum(np.maximum(count - 1, 0), np.round(float(hidden) * count)).astype(np.int64)


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
        check_between(what, value, 0, 1, closed="both", noun="fraction")
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


def fold_splits(observed: np.ndarray, n_folds: int, hidden: float, rng: np.random.Generator
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(known, cold datasets) of one round of dataset folds: the datasets with >= 2
    observed entries, shuffled, are cut into `n_folds` folds (fewer for fewer datasets),
    each held out whole once, while `hidden` of every other dataset's entries (all but one
    at most) are hidden. What `auto` chooses on and intervals are calibrated on; lazy, so
    a caller may stop after the folds it needs."""
    count = observed.sum(axis=0)
    eligible = np.flatnonzero(count >= 2)
    if len(eligible) < 2:
        return
    n_hidden = hidden_counts(count, hidden)
    order = rng.permutation(eligible)
    for fold in np.array_split(order, min(n_folds, len(order))):
        cold = np.zeros(observed.shape[1], dtype=bool)
        cold[fold] = True
        rank = column_ranks(observed, rng)
        known = observed & (rank >= n_hidden[None, :]) & ~cold[None, :]
        if known.any():
            yield known, cold
