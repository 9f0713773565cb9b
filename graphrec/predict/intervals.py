"""Predictive intervals: how far a predicted accuracy may be from the one fine-tuning gives.

Split conformal prediction on the user's own graph. At training time twins of the
predictor (same configuration) are fitted with part of the graph held out, much as the
held-out benchmark does: a fold of the datasets hidden whole (cold) and `HIDDEN` of the
entries of the others (partial). Their errors on the hidden entries, truth minus
prediction, give the interval's offsets: the (1 - c)/2 and (1 + c)/2 quantiles for
coverage c, cold and partial apart, because a dataset with no history is predicted far
less surely. A prediction s then gets [s + low, s + high], clipped to [0, 1].

A dataset with few measured results is predicted less surely than one with many: the
partial interval widens as its count of observed entries, n, falls. Its errors are read
as a random-effects model, pair noise s^2 plus the error of the dataset's estimated effect,
whose variance shrinks as t^2 s^2 / (s^2 + n t^2) (t^2: the spread of dataset effects,
what a dataset with no history, n = 0, adds). s^2 and t^2 come from the twins' cold and
partial errors by the method of moments, the partial errors divided by their sigma(n)
give the conformal quantiles, and a prediction for a dataset with n observed entries gets
[s + z_low sigma(n), s + z_high sigma(n)]. Without this scale a dataset with one
measured result got the width of one with 75% measured: `auto`'s 80% intervals held 65-78%
of its hidden accuracies on four zoos, 74-81% with it (`benchmarks/bench_intervals.py
--reveal 1`, with and without `--no-scale`; the README has the table).

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
from dataclasses import MISSING, asdict, dataclass
from typing import Any

import numpy as np

from ..checks import check_between
from .graph import TransferGraph, fold_splits, sample_datasets

__all__ = ["DEFAULT_COVERAGE", "Bounds", "Calibration", "HeldOutErrors", "calibrate",
           "calibrate_levels", "error_scale", "held_out_errors", "interval_bounds",
           "variance_components"]

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
class HeldOutErrors:
    """Truth minus prediction of the twins on held-out entries, cold and partial apart,
    with the count of observed entries each partial error's dataset had in its twin."""

    cold: np.ndarray
    partial: np.ndarray
    partial_known: np.ndarray


@dataclass(frozen=True)
class Calibration:
    """The offsets of a predictor's intervals, learnt from its held-out errors.

    `partial_low`/`partial_high` are the offsets of a typical partial dataset (as the
    twins saw them); with `noise_var` and `dataset_var` (None in calibrations stored
    before they were added) they scale with the dataset's count of observed entries."""

    coverage: float
    cold_low: float
    cold_high: float
    partial_low: float
    partial_high: float
    cold_errors: int  # how many held-out errors each pair of offsets rests on
    partial_errors: int
    noise_var: float | None = None  # s^2: what no count of results removes
    dataset_var: float | None = None  # t^2: the spread of dataset effects
    partial_z_low: float | None = None  # quantiles of partial errors / sigma(n)
    partial_z_high: float | None = None

    @property
    def scaled(self) -> bool:
        """Whether the partial offsets scale with a dataset's count of results (not in
        calibrations stored before the scale, nor in `bench_intervals.py --no-scale`)."""
        return None not in (self.noise_var, self.dataset_var, self.partial_z_low,
                            self.partial_z_high)

    def sigma(self, known: np.ndarray) -> np.ndarray | None:
        """sigma(n), the error scale of a dataset with n observed entries (None: no scale
        in this calibration)."""
        if not self.scaled:
            return None
        return error_scale(np.asarray(known, dtype=np.float64), self.noise_var,
                           self.dataset_var)

    def offsets(self, known: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) offsets, not clipped, for datasets with `known` observed entries
        each (0: cold)."""
        known = np.asarray(known)
        if known.dtype == bool:
            raise TypeError("known counts a dataset's observed entries (0 for a dataset "
                            "with no history), not whether it is cold")
        known = known.astype(np.float64)
        sigma = self.sigma(known)
        if sigma is None:
            low = np.full(known.shape, self.partial_low)
            high = np.full(known.shape, self.partial_high)
        else:
            low, high = self.partial_z_low * sigma, self.partial_z_high * sigma
        cold = known == 0
        return np.where(cold, self.cold_low, low), np.where(cold, self.cold_high, high)

    def bounds(self, scores: np.ndarray, known: np.ndarray | int
               ) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) for `scores`; `known` says, per score, how many observed entries
        its dataset has (0: no history)."""
        scores = np.asarray(scores, dtype=np.float64)
        low, high = self.offsets(np.broadcast_to(np.asarray(known), scores.shape))
        low, high = scores + low, scores + high
        return np.clip(np.minimum(low, scores), 0.0, 1.0), np.clip(np.maximum(high, scores),
                                                                   0.0, 1.0)

    def as_record(self) -> dict[str, Any]:
        """Flat properties for the Predictor node (`interval_` prefixed)."""
        return {f"interval_{k}": v for k, v in asdict(self).items()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Calibration | None:
        """The calibration a Predictor record holds; None for one trained without."""
        fields = cls.__dataclass_fields__
        try:
            return cls(**{k: (record[f"interval_{k}"] if f.default is MISSING
                              else record.get(f"interval_{k}"))
                          for k, f in fields.items()})
        except KeyError:
            return None


def error_scale(known: np.ndarray, noise_var: float, dataset_var: float) -> np.ndarray:
    """sigma(n) = sqrt(s^2 + t^2 s^2 / (s^2 + n t^2)): pair noise plus the error left in
    a dataset effect estimated from n results (t^2 + s^2 at n = 0, s^2 as n grows)."""
    s2, t2 = max(noise_var, 1e-12), max(dataset_var, 0.0)
    return np.sqrt(s2 + t2 * s2 / (s2 + np.asarray(known, dtype=np.float64) * t2))


def variance_components(errors: HeldOutErrors, rounds: int = 50) -> tuple[float, float]:
    """(s^2, t^2) by the method of moments: mean squared cold error = s^2 + t^2, mean
    squared partial error = s^2 + the mean of t^2 s^2 / (s^2 + n t^2)."""
    partial = float(np.mean(errors.partial ** 2)) if len(errors.partial) else 0.0
    cold = float(np.mean(errors.cold ** 2)) if len(errors.cold) else partial
    s2 = max(partial, 1e-12)
    for _ in range(rounds):
        t2 = max(cold - s2, 0.0)
        left = t2 * s2 / (s2 + errors.partial_known * t2) if t2 > 0 else np.zeros(1)
        s2 = max(partial - float(np.mean(left)), 1e-12)
    return s2, max(cold - s2, 0.0)


def interval_bounds(calibration: Calibration | None, graph: TransferGraph) -> Bounds | None:
    """The intervals of pairs of `graph` (as wide as its dataset's count of observed edges
    in it says); None for a predictor trained without a calibration."""
    if calibration is None:
        return None
    known = np.bincount(graph.edges[:, 1], minlength=graph.num_datasets)

    def bounds(pairs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return calibration.bounds(scores, known[pairs[:, 1]])

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
    noise_var, dataset_var = variance_components(errors)
    z = errors.partial / error_scale(errors.partial_known, noise_var, dataset_var)
    out = []
    for coverage in coverages:
        lo, hi = (1 - coverage) / 2, (1 + coverage) / 2
        out.append(Calibration(
            coverage, _quantile(errors.cold, lo, low=True), _quantile(errors.cold, hi, low=False),
            _quantile(errors.partial, lo, low=True), _quantile(errors.partial, hi, low=False),
            len(errors.cold), len(errors.partial), noise_var, dataset_var,
            _quantile(z, lo, low=True), _quantile(z, hi, low=False)))
    return out


def held_out_errors(predictor: Any, graph: TransferGraph, seed: int = 0) -> HeldOutErrors:
    """Truth minus prediction of twins of `predictor` on held-out entries of `graph`, by
    whether the entry's dataset was held out whole (cold) or in part."""
    sample = sample_datasets(graph, CALIBRATION_DATASETS, seed)
    truth = sample.matrix()
    observed = np.isfinite(truth)
    parts: dict[str, list[np.ndarray]] = {"cold": [], "partial": [], "known": []}
    config = predictor.get_config()
    cold_datasets = 0
    rng = np.random.default_rng(seed)
    for r, (known, cold) in enumerate(fold_splits(observed, MAX_FOLDS, HIDDEN, rng)):
        train = sample.with_edges(known[sample.edges[:, 0], sample.edges[:, 1]])
        hidden = np.argwhere(observed & ~known)
        if len(train.edges) == 0 or len(hidden) == 0:
            continue
        twin = predictor.twin(int(config.get("seed", 0)) + r)  # no seed taken: ignored
        twin.fit(train)
        residual = truth[hidden[:, 0], hidden[:, 1]] - twin.predict(train, hidden)
        is_cold = cold[hidden[:, 1]]
        parts["cold"].append(residual[is_cold])
        parts["partial"].append(residual[~is_cold])
        parts["known"].append(known.sum(axis=0)[hidden[~is_cold, 1]])
        cold_datasets += int(cold.sum())
        if (cold_datasets >= MIN_COLD_DATASETS
                and min(sum(map(len, parts[c])) for c in ("cold", "partial")) >= MIN_RESIDUALS):
            break
    cold_errors, partial, known_counts = (
        np.concatenate(parts[k]) if parts[k] else np.zeros(0) for k in ("cold", "partial",
                                                                         "known"))
    if len(partial) == 0:  # no such entries: borrow the other regime's, as if well known
        partial, known_counts = cold_errors, np.full(len(cold_errors), 1e9)
    if len(cold_errors) == 0:
        cold_errors = partial
    return HeldOutErrors(cold_errors, partial, known_counts.astype(np.float64))


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
