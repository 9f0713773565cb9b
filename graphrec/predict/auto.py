"""The default predictor: candidates chosen and blended on the user's own graph.

A predictor tuned on one benchmark matrix is not a default: on one zoo the metadata model
(`hla`) ranks best, on another a proxy score such as LogME beats every learnt model for
datasets with no history, on a third the GAT finds the best model more often. So `auto`
decides per graph, the way the tool is used:

1. Inner repetitions of the held-out protocol on the observed edges it is given
   (`inner_splits`: the datasets cut into four folds, each held out whole once, while half
   of the other datasets' entries are hidden). Each learnt candidate (`hla`, `linear`,
   `scg4trf`, ...) is fitted on each inner split and scores the hidden entries. A proxy
   score learns nothing from accuracies: it is read as it is, on the same entries, so its
   reliability is measured where datasets have both scores and records.
2. Every candidate's scores become within-dataset z-scores (of the logit), since only the
   order of a dataset's models matters to a user. Blends are weighted sums of two of them
   (weights in steps of 1 / `steps`: halves by default) or one alone.
3. For cold datasets and for partially known ones apart, the blend with the best held-out
   `mean weighted tau - regret_weight x top-1 regret (points)` wins; the default candidate
   keeps its place unless another beats it by `margin`.
4. The chosen candidates are refitted on every edge. A prediction's level (its accuracy
   scale) is the primary candidate's; the blend only reorders within a dataset.

The choice and its held-out figures are kept (`selection`), so `train` and `status` can
show users the honest estimate of how well it ranks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..checks import check_between, check_integer, check_number
from ..ranking import dataset_metrics, nanmean
from .base import Predictor
from .baselines import MatrixCompletionPredictor, MeanPredictor
from .checkpoint import as_array
from .gat import G4TrfPredictor, GATPredictor
from .graph import TransferGraph, fold_splits, sample_datasets
from .hierarchical import HierarchicalLogitPredictor
from .linear import LinearPredictor
from .pair_scores import PairScores, check_use_scores, select_metrics

__all__ = ["CANDIDATES", "SCORE_PREFIX", "AutoPredictor", "inner_splits"]

#: The learnt predictors `auto` can choose among, by registry name.
CANDIDATES: dict[str, type[Predictor]] = {
    p.name: p for p in (HierarchicalLogitPredictor, LinearPredictor, GATPredictor, G4TrfPredictor,
                        MatrixCompletionPredictor, MeanPredictor)}

#: A candidate named `score:<metric>` is that proxy score alone.
SCORE_PREFIX = "score:"
_CLIP = 1e-4
_ITERATIVE = ("scg4trf", "g4trf")
_WITH_SCORES = "+scores"


def _base(name: str) -> str:
    return name[:-len(_WITH_SCORES)] if name.endswith(_WITH_SCORES) else name


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _CLIP, 1 - _CLIP)
    return np.log(p / (1 - p))


def _column_z(values: np.ndarray) -> np.ndarray:
    """Each column (a dataset) standardised over its rows (the models); 0 if constant."""
    mean = values.mean(axis=0, keepdims=True)
    sd = values.std(axis=0, keepdims=True)
    return np.divide(values - mean, sd, out=np.zeros_like(values), where=sd > 1e-12)


def inner_splits(observed: np.ndarray, repeats: int, cold: float, hidden: float, seed: int
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(known masks, cold-dataset masks) of the inner held-out repetitions: `repeats` times,
    the datasets with >= 2 observed entries are shuffled and cut into round(1 / cold)
    folds, each held out whole once (so every dataset is a cold case once per repeat),
    while `hidden` of every other dataset's entries (all but one at most) are hidden."""
    rng = np.random.default_rng([seed, 7919])
    k = max(2, round(1 / cold))
    knowns, colds = [], []
    for _ in range(repeats):
        for known, cold_mask in fold_splits(observed, k, hidden, rng):
            knowns.append(known)
            colds.append(cold_mask)
    return knowns, colds


def _blends(names: Sequence[str], steps: int) -> list[dict[str, float]]:
    """Every candidate alone, and every pair at weights k/steps, k = 1..steps-1."""
    out = [{n: 1.0} for n in names]
    for a, b in itertools.combinations(names, 2):
        out += [{a: k / steps, b: 1 - k / steps} for k in range(1, steps)]
    return out


class AutoPredictor(Predictor):
    """The model of this module's docstring; `fit` chooses, `predict` blends.

    - `candidates`: learnt predictors by registry name; `use_scores` adds each proxy score
      the graph holds (True), none (False) or the named metrics as `score:<metric>`.
    - `folds`: repeats of the inner K-fold over datasets (K = 1 / `cold`); `hidden`: the
      share of other datasets' entries hidden in each.
    - `max_datasets`: the choice is made on a seeded sample of that many datasets;
      `max_gat_edges` / `max_gat_cells`: above this many edges, or models x datasets
      cells (the stacked GAT attends densely over them), the GAT candidates are skipped
      (their fit would take minutes), and the selection says so.
    - `regret_weight`: how many units of weighted tau one point of top-1 regret costs in
      the choice; `margin`: how much a blend must beat `candidates[0]` alone to replace it.
    - `epochs`: training epochs of the GAT candidates.

    The defaults (steps, regret_weight, folds, candidates) were chosen with
    `benchmarks/tune_auto.py` on the held-out protocol's validation seeds 100..109 of the
    four zoos; the README reports seeds 0..9 (`benchmarks/bench_zoos.py`).
    """

    name = "auto"

    def __init__(self, candidates: Sequence[str] = ("hla", "linear", "scg4trf"),
                 use_scores: bool | str | Sequence[str] = True, folds: int = 2,
                 cold: float = 0.25, hidden: float = 0.5, steps: int = 2,
                 regret_weight: float = 0.1, margin: float = 0.005, epochs: int = 300,
                 max_datasets: int = 2000, max_gat_edges: int = 200_000,
                 max_gat_cells: int = 250_000,
                 seed: int = 0) -> None:
        self.candidates = candidates
        self.use_scores = use_scores
        self.folds = folds
        self.cold = cold
        self.hidden = hidden
        self.steps = steps
        self.regret_weight = regret_weight
        self.margin = margin
        self.epochs = epochs
        self.max_datasets = max_datasets
        self.max_gat_edges = max_gat_edges
        self.max_gat_cells = max_gat_cells
        self.seed = seed

    # -- configuration ----------------------------------------------------------------------

    def _check_config(self) -> None:
        cands = list(self.candidates) if not isinstance(self.candidates, str) else None
        if not cands or not all(isinstance(c, str) for c in cands):
            raise ValueError(f"candidates must be a non-empty list of predictor names, got "
                             f"{self.candidates!r}")
        bad = [c for c in cands if _base(c) not in CANDIDATES
               or (c.endswith(_WITH_SCORES)
                   and "use_scores" not in CANDIDATES[_base(c)].param_names())]
        if bad:
            allowed = ", ".join(CANDIDATES)
            raise ValueError(f"unknown candidate(s) {', '.join(bad)}; choose from {allowed} "
                             f"(with {_WITH_SCORES} for one that reads the proxy scores "
                             "itself; scores alone join through use_scores)")
        check_use_scores(self.use_scores)
        check_integer("folds", self.folds, 1)
        check_integer("steps", self.steps, 1)
        check_integer("epochs", self.epochs, 1)
        check_integer("max_datasets", self.max_datasets, 2)
        check_integer("max_gat_edges", self.max_gat_edges, 0)
        check_integer("max_gat_cells", self.max_gat_cells, 0)
        for what in ("cold", "hidden"):
            check_between(what, getattr(self, what), 0, 1, noun="fraction")
        check_number("regret_weight", self.regret_weight, 0)
        check_number("margin", self.margin, 0)

    def _make(self, name: str, seed: int) -> Predictor:
        """A candidate by name; `<name>+scores` reads the proxy scores itself, the plain
        ones do not (`auto` blends the scores in)."""
        cls = CANDIDATES[_base(name)]
        params = cls.param_names()
        reads = self._pairs.metrics if name.endswith(_WITH_SCORES) else False
        options = {k: v for k, v in (("use_scores", reads), ("seed", seed),
                                     ("epochs", int(self.epochs))) if k in params}
        return cls(**options)

    # -- fitting ----------------------------------------------------------------------------

    def _fit(self, graph: TransferGraph) -> None:
        metrics = select_metrics(graph, self.use_scores)
        self._pairs = PairScores(metrics)
        learnt = list(dict.fromkeys(self.candidates))
        sample = self._selection_graph(graph)
        truth = sample.matrix()
        observed = np.isfinite(truth)
        score_z = self._score_columns(sample)
        knowns, colds = inner_splits(observed, int(self.folds), float(self.cold),
                                     float(self.hidden), int(self.seed))
        splits = [sample.with_edges(k[sample.edges[:, 0], sample.edges[:, 1]]) for k in knowns]
        too_big = (len(graph.edges) > self.max_gat_edges
                   or graph.num_models * graph.num_datasets > self.max_gat_cells)
        skipped = [n for n in learnt if _base(n) in _ITERATIVE and too_big]
        if not metrics:  # nothing for a +scores candidate to read: it is its plain twin
            skipped += [n for n in learnt if n.endswith(_WITH_SCORES) and n not in skipped]
        learnt = [n for n in learnt if n not in skipped] or ["hla"]
        names = [*learnt, *(SCORE_PREFIX + m for m in metrics)]
        columns: dict[str, list[np.ndarray]] = {}
        for name in learnt:
            if not splits:
                break
            scores = self._make(name, int(self.seed)).fit_predict_many(
                splits, seeds=[int(self.seed)] * len(splits))[-1]
            columns[name] = [_column_z(_logit(s)) for s in scores]
        for k, m in enumerate(metrics):
            columns[SCORE_PREFIX + m] = [score_z[k]] * len(splits)
        # The hidden entries of each inner split, per regime: what the choice is scored on.
        cases: dict[str, list[tuple[int, int, np.ndarray]]] = {"cold": [], "partial": []}
        for r, (known, cold) in enumerate(zip(knowns, colds, strict=True)):
            hidden = observed & ~known
            for j in np.flatnonzero(hidden.sum(axis=0) >= 2):
                rows = np.flatnonzero(hidden[:, j])
                cases["cold" if cold[j] else "partial"].append((r, int(j), rows))
        blends = _blends(names, int(self.steps))
        selection: dict[str, Any] = {"candidates": names, "splits": len(splits),
                                     "skipped": skipped,
                                     "selection_datasets": sample.num_datasets}
        for regime, regime_cases in cases.items():
            table = []
            for weights in blends:
                figures = [dataset_metrics(truth[rows, j], sum(
                    w * columns[n][r][rows, j] for n, w in weights.items()))
                    for r, j, rows in regime_cases]
                wtau = nanmean([f["wtau"] for f in figures])
                regret = nanmean([f["regret"] for f in figures])
                objective = (wtau if math.isfinite(wtau) else 0.0) - float(
                    self.regret_weight) * (regret if math.isfinite(regret) else 0.0)
                table.append((objective, wtau, regret, weights))
            if not regime_cases:  # nothing to learn the choice from: the default alone
                table = [(0.0, math.nan, math.nan, {learnt[0]: 1.0})]
            primary = next(t for t in table if t[3] == {learnt[0]: 1.0})
            best = max(table, key=lambda t: t[0])
            chosen = best if best[0] > primary[0] + float(self.margin) else primary
            selection[regime] = {
                "weights": chosen[3], "wtau": chosen[1], "regret": chosen[2],
                "datasets": len(regime_cases),
                "alone": {n: {"wtau": t[1], "regret": t[2]} for t in table
                          for n in t[3] if len(t[3]) == 1}}
        self.selection_ = _plain(selection)
        used = {n for regime in cases for n in selection[regime]["weights"]}
        if not any(n in used for n in learnt):
            used.add(learnt[0])  # the level of every prediction comes from a learnt model
        self._models = {n: self._make(n, int(self.seed)).fit(graph)
                        for n in learnt if n in used}
        counts = np.bincount(graph.edges[:, 1], minlength=graph.num_datasets)
        self._fit_datasets = {d: bool(c > 0) for d, c in zip(graph.datasets, counts,
                                                               strict=True)}

    def _selection_graph(self, graph: TransferGraph) -> TransferGraph:
        """The graph the choice is made on: all of it, or a seeded sample of
        `max_datasets` datasets (the choice needs their rankings, not every one)."""
        return sample_datasets(graph, int(self.max_datasets), int(self.seed))

    def _score_columns(self, graph: TransferGraph) -> np.ndarray:
        """(metrics, models, datasets): each proxy score z-scored within its dataset."""
        if not self._pairs.width:
            return np.zeros((0, graph.num_models, graph.num_datasets))
        return np.moveaxis(self._pairs.dense(graph), -1, 0)

    # -- scoring ----------------------------------------------------------------------------

    @property  # type: ignore[override]
    def cold_start_reads_graph(self) -> bool:
        """Only if a candidate the cold regime reads (its blend, or the level it keeps)
        does: a blend of hla and proxy scores scores a new dataset without the graph."""
        if not self._fitted:
            return False
        weights = self.selection_.get("cold", {}).get("weights", {})
        used = {n for n, w in weights.items() if w > 0 and n in self._models}
        if self._models:
            used.add(self._primary(weights))
        return any(self._models[n].cold_start_reads_graph for n in used)

    def _primary(self, weights: dict[str, float]) -> str:
        """The learnt candidate whose accuracy scale a regime's predictions keep: the first
        with weight in its blend, else the first fitted."""
        learnt = [n for n in self.candidates if n in self._models]
        return next((n for n in learnt if weights.get(n, 0) > 0), learnt[0])

    def _scorer(self, graph: TransferGraph) -> Callable[[np.ndarray], np.ndarray]:
        scorers = {n: m.scorer(graph) for n, m in self._models.items()}
        pair_scores = self._pairs.bind(graph) if self._pairs.width else None
        metrics = self._pairs.metrics
        all_models = np.arange(graph.num_models)

        def score(pairs: np.ndarray) -> np.ndarray:
            out = np.empty(len(pairs))
            targets, where = np.unique(pairs[:, 1], return_inverse=True)
            step = max(1, (1 << 20) // max(1, graph.num_models))
            for lo in range(0, len(targets), step):
                block = targets[lo:lo + step]
                grid = np.stack([np.repeat(all_models, len(block)),
                                 np.tile(block, graph.num_models)], axis=1)
                shape = (graph.num_models, len(block))
                logits = {n: _logit(s(grid)).reshape(shape) for n, s in scorers.items()}
                zs = {n: _column_z(v) for n, v in logits.items()}
                if pair_scores is not None:
                    feats = pair_scores(grid).reshape(*shape, len(metrics))
                    zs.update({SCORE_PREFIX + m: feats[:, :, k] for k, m in enumerate(metrics)})
                seen = np.array([self._fit_datasets.get(graph.datasets[d], False)
                                 for d in block])
                result = np.empty(shape)
                for regime, columns in (("partial", seen), ("cold", ~seen)):
                    if not columns.any():
                        continue
                    weights = self.selection_[regime]["weights"]
                    primary = self._primary(weights)
                    base = logits[primary][:, columns]
                    blend = sum(w * zs[n][:, columns] for n, w in weights.items())
                    blend = _column_z(blend + 1e-9 * zs[primary][:, columns])
                    mean, sd = base.mean(axis=0), base.std(axis=0)
                    result[:, columns] = mean + sd * blend
                rows = (where >= lo) & (where < lo + len(block))
                out[rows] = 1.0 / (1.0 + np.exp(-result[pairs[rows, 0], where[rows] - lo]))
            return out

        return score

    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        return self._scorer(graph)(pairs)

    # -- persistence ------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {"candidates": list(self.candidates), "use_scores": self.use_scores,
                "folds": self.folds, "cold": self.cold, "hidden": self.hidden,
                "steps": self.steps, "regret_weight": self.regret_weight,
                "margin": self.margin, "epochs": self.epochs,
                "max_datasets": self.max_datasets, "max_gat_edges": self.max_gat_edges,
                "max_gat_cells": self.max_gat_cells,
                "seed": self.seed}

    def get_state(self) -> dict[str, Any]:
        return {"selection": self.selection_, "metrics": list(self._pairs.metrics),
                "fit_datasets": dict(self._fit_datasets),
                "models": {n: {"config": m.get_config(), "state": m.get_state()}
                           for n, m in self._models.items()}}

    def set_state(self, state: dict[str, Any]) -> None:
        self.selection_ = state["selection"]
        self._pairs = PairScores([str(m) for m in state["metrics"]])
        self._fit_datasets = {str(k): bool(v) for k, v in state["fit_datasets"].items()}
        self._models = {}
        for name, saved in state["models"].items():
            model = CANDIDATES[_base(name)](**{k: as_array(v) for k, v in saved["config"].items()})
            model.set_state(saved["state"])
            model._fitted = True
            self._models[name] = model
        self._fitted = True


def _plain(value: Any) -> Any:
    """Numpy scalars as Python numbers, so the selection is JSON and checkpoint safe."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
