"""Predictive intervals: how far a predicted accuracy may be from the one fine-tuning gives.

Split conformal prediction on the user's own graph. At training time twins of the
predictor (same configuration) are fitted with part of the graph held out, much as the
held-out benchmark does: a fold of the datasets hidden whole (cold) and `HIDDEN` of the
entries of the others (partial). Its errors on the hidden entries, truth minus prediction, give the
interval's offsets: the (1 - c)/2 and (1 + c)/2 quantiles for coverage c, cold and partial
apart, because a dataset with no history is predicted far less surely. A prediction s then
gets [s + low, s + high], clipped to [0, 1].

Folds go on until `MIN_COLD_DATASETS` datasets were held out whole and each regime has
`MIN_RESIDUALS` errors, at most `MAX_FOLDS`: one twin for a large graph, every dataset
held out once for a small one (cold errors of one dataset move together, so a few held-out
datasets say little). Graphs of
more than `CALIBRATION_DATASETS` datasets are calibrated on a sample of that many: a twin
that sees fewer datasets errs a little more, so the intervals err on the wide side there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..checks import check_between
from .graph import TransferGraph, fold_splits, sample_datasets

__all__ = ["DEFAULT_COVERAGE", "Bounds", "Calibration", "calibrate", "calibrate_levels",
           "held_out_errors", "interval_bounds"]

#: (pairs, scores) -> (low, high): the intervals of scored pairs of one graph.
Bounds = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

DEFAULT_COVERAGE = 0.8
CALIBRATION_DATASETS = 2000
MIN_RESIDUALS = 300  # errors per regime, and
MIN_COLD_DATASETS = 100  # datasets held out whole, before the folds may stop
MAX_FOLDS = 10
#: Of each other dataset's entries, hidden from a twin. A quarter, not the benchmark's half:
#: a twin should know about as much as the predictor it stands in for; one that saw half of
#: the other datasets erred more than the predictor does, so its intervals were too wide
#: (`benchmarks/bench_intervals.py`, repetitions 10-19, auto, cold / partial: DomainNet
#: 0.853 / 0.857 with a half, 0.822 / 0.825 with a quarter; the README has every zoo).
HIDDEN = 0.25


@dataclass(frozen=True)
class Calibration:
    """The offsets of a predictor's intervals, learnt from its held-out errors."""

    coverage: float
    cold_low: float
    cold_high: float
    partial_low: float
    partial_high: float
    cold_errors: int  # how many held-out errors each pair of offsets rests on
    partial_errors: int

    def bounds(self, scores: np.ndarray, cold: np.ndarray | bool
               ) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) for `scores`; `cold` says, per score, whether its dataset has no
        observed accuracy."""
        scores = np.asarray(scores, dtype=np.float64)
        cold = np.broadcast_to(np.asarray(cold, dtype=bool), scores.shape)
        low = scores + np.where(cold, self.cold_low, self.partial_low)
        high = scores + np.where(cold, self.cold_high, self.partial_high)
        return np.clip(np.minimum(low, scores), 0.0, 1.0), np.clip(np.maximum(high, scores),
                                                                   0.0, 1.0)

    def as_record(self) -> dict[str, Any]:
        """Flat properties for the Predictor node (`interval_` prefixed)."""
        return {f"interval_{k}": v for k, v in asdict(self).items()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Calibration | None:
        """The calibration a Predictor record holds; None for one trained without."""
        try:
            return cls(**{k: record[f"interval_{k}"] for k in cls.__dataclass_fields__})
        except KeyError:
            return None


def interval_bounds(calibration: Calibration | None, graph: TransferGraph) -> Bounds | None:
    """The intervals of pairs of `graph` (cold where the dataset has no observed edge in
    it); None for a predictor trained without a calibration."""
    if calibration is None:
        return None
    has_edges = np.bincount(graph.edges[:, 1], minlength=graph.num_datasets) > 0

    def bounds(pairs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return calibration.bounds(scores, ~has_edges[pairs[:, 1]])

    return bounds


def calibrate(predictor: Any, graph: TransferGraph, *, coverage: float = DEFAULT_COVERAGE,
              seed: int = 0) -> Calibration:
    """Fit twins of `predictor` (unfitted copies of its configuration) on held-out splits
    of `graph` and turn their errors into interval offsets for `coverage`."""
    return calibrate_levels(predictor, graph, [coverage], seed=seed)[0]


def calibrate_levels(predictor: Any, graph: TransferGraph, coverages: Sequence[float], *,
                     seed: int = 0) -> list[Calibration]:
    """`calibrate` for several coverages from one set of held-out errors (a calibration
    curve costs no more fits than one interval)."""
    for coverage in coverages:
        check_between("coverage", coverage, 0, 1, noun="fraction")
    errors = held_out_errors(predictor, graph, seed)
    out = []
    for coverage in coverages:
        offsets = {regime: (_quantile(pooled, (1 - coverage) / 2, low=True),
                            _quantile(pooled, (1 + coverage) / 2, low=False), len(pooled))
                   for regime, pooled in errors.items()}
        out.append(Calibration(coverage, offsets[True][0], offsets[True][1],
                               offsets[False][0], offsets[False][1], offsets[True][2],
                               offsets[False][2]))
    return out


def held_out_errors(predictor: Any, graph: TransferGraph, seed: int = 0
                    ) -> dict[bool, np.ndarray]:
    """Truth minus prediction of twins of `predictor` on held-out entries of `graph`, by
    whether the entry's dataset was held out whole (True: cold) or in part."""
    sample = sample_datasets(graph, CALIBRATION_DATASETS, seed)
    truth = sample.matrix()
    observed = np.isfinite(truth)
    errors: dict[bool, list[np.ndarray]] = {True: [], False: []}
    config = predictor.get_config()
    cold_datasets = 0
    rng = np.random.default_rng(seed)
    for r, (known, cold) in enumerate(fold_splits(observed, MAX_FOLDS, HIDDEN, rng)):
        train = sample.with_edges(known[sample.edges[:, 0], sample.edges[:, 1]])
        hidden = np.argwhere(observed & ~known)
        if len(train.edges) == 0 or len(hidden) == 0:
            continue
        twin = type(predictor)(**({**config, "seed": config["seed"] + r}
                                  if "seed" in config else config))
        twin.fit(train)
        residual = truth[hidden[:, 0], hidden[:, 1]] - twin.predict(train, hidden)
        is_cold = cold[hidden[:, 1]]
        errors[True].append(residual[is_cold])
        errors[False].append(residual[~is_cold])
        cold_datasets += int(cold.sum())
        if (cold_datasets >= MIN_COLD_DATASETS
                and min(sum(map(len, errors[c])) for c in (True, False)) >= MIN_RESIDUALS):
            break
    pooled = {regime: np.concatenate(parts) if parts else np.zeros(0)
              for regime, parts in errors.items()}
    for regime in (True, False):  # no such entries: borrow the other regime's
        if len(pooled[regime]) == 0:
            pooled[regime] = pooled[not regime]
    return pooled


def _quantile(errors: np.ndarray, q: float, *, low: bool) -> float:
    """The conformal quantile: the k-th smallest error with k = ceil((n + 1) q) (the
    finite-sample rank that keeps the coverage promise), the most extreme error when n is
    too small for that rank, and 0 with no errors at all (no calibration possible)."""
    n = len(errors)
    if n == 0:
        return 0.0
    ordered = np.sort(errors)
    if low:
        k = math.floor((n + 1) * q)  # from below: the k-th smallest, 1-based
        return float(ordered[max(k, 1) - 1])
    k = math.ceil((n + 1) * q)
    return float(ordered[min(k, n) - 1])
