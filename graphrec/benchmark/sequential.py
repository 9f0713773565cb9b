"""Simulated sequential fine-tuning: how many runs each way of choosing needs to find a
held-out dataset's best model.

The held-out design of `holdout` (a quarter of the datasets hidden whole, half the
entries of the others). On each held-out dataset with two or more hidden entries, the
hidden models are the runs one could do: the simulation knows their accuracies, the
chooser does not. After b runs the regret is the dataset's best accuracy minus the best
found (the known entries count as found), in points. Ways of choosing:

- `suggest`: the loop `graphrec suggest DATASET --budget 1`, fine-tune, `ingest`, `train`:
  one run per round, then the predictor is refitted with that dataset's new result alone
  (`group=1`, as a user with one new dataset sees it). `group=k` refits once per round
  for k datasets' results together, `group=None` for all of them: cheaper, but not the
  same thing. The top-predicted pairs of many datasets, measured together, come out below
  their predictions on average (the winner's curse), so the refit lowers those models
  everywhere and reorders every dataset: `hla`, whose refit on one dataset's result
  keeps the order of that dataset's other models exactly, picked a second model 0.09 +-
  0.04 points worse on the CLIP zoo's partial datasets when all were refitted together;
- `top`: the predictor's first top b, fixed in advance;
- `mean`: the models by their mean accuracy over the known entries;
- `random`: the average over 20 random orders.

`runs` is the mean over datasets of the runs it took to get the regret under `target`
points, counting `rounds + 1` for a dataset still above it after `rounds` runs.

`suggest-top` is the paired difference, dataset by dataset (negative: suggest better),
with its standard error (`se:` keys): whether a gap between the two is more than the draw
of held-out datasets. `max_targets` caps the held-out datasets simulated per regime and
repetition (a seeded sample; the refits of `group=1` grow with their number).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..checks import check_integer
from ..predict.graph import TransferGraph, holdout_mask
from ..predict.registry import make_predictor
from ..predict.suggest import pick_order

__all__ = ["STRATEGIES", "simulate"]

STRATEGIES = ("suggest", "top", "mean", "random")
RANDOM_ORDERS = 20


def simulate(graph: TransferGraph, method: str = "auto", *, seeds: int = 3,
             budgets: Sequence[int] = (1, 2, 3, 5), rounds: int = 8, target: float = 0.5,
             cold: float = 0.25, hidden: float = 0.5, first_seed: int = 0,
             group: int | None = 1, max_targets: int | None = None) -> dict[str, Any]:
    """{regime: {strategy: {"regret@b": mean points, "runs": mean runs}}, "datasets": {..}}."""
    for what, value in (("group", group), ("max_targets", max_targets)):
        if value is not None:
            check_integer(what, value, 1)
    truth = graph.matrix()
    observed = np.isfinite(truth)
    rounds = max(rounds, max(budgets))
    cells: dict[tuple[str, str], list[dict[str, float]]] = {}
    counts = {"cold": 0, "partial": 0}
    for r in range(seeds):
        seed = first_seed + r
        known, cold_sets = holdout_mask(seed, observed, cold, hidden)
        targets = _targets(observed, known, cold_sets, max_targets, seed)
        first = _fit(graph, truth, known, method, seed)
        n_known = known.sum(axis=1)
        total = np.where(known, truth, 0.0).sum(axis=1)
        model_mean = np.where(n_known > 0, total / np.maximum(n_known, 1), -np.inf)
        orders = {"top": {}, "mean": {}}
        for j in targets:
            candidates = np.flatnonzero(observed[:, j] & ~known[:, j])
            orders["top"][j] = pick_order(first[candidates, j], candidates)
            orders["mean"][j] = pick_order(model_mean[candidates], candidates)
        orders["suggest"] = {}
        size = len(targets) if group is None else group
        for start in range(0, len(targets), size):
            orders["suggest"].update(_sequential(graph, truth, observed, known,
                                                 targets[start:start + size], first, method,
                                                 seed, rounds))
        rng = np.random.default_rng(seed)
        for j in targets:
            regime = "cold" if cold_sets[j] else "partial"
            counts[regime] += 1
            best = float(np.max(truth[observed[:, j], j]))
            start = float(np.max(truth[known[:, j], j])) if known[:, j].any() else -np.inf
            for name in ("suggest", "top", "mean"):
                cells.setdefault((regime, name), []).append(
                    _figures(truth[orders[name][j], j], start, best, budgets, rounds, target))
            candidates = np.flatnonzero(observed[:, j] & ~known[:, j])
            shuffled = [_figures(truth[rng.permutation(candidates), j], start, best, budgets,
                                 rounds, target) for _ in range(RANDOM_ORDERS)]
            cells.setdefault((regime, "random"), []).append(
                {k: float(np.mean([s[k] for s in shuffled])) for k in shuffled[0]})
    out: dict[str, Any] = {"datasets": counts, "method": method, "seeds": seeds,
                           "target": target, "rounds": rounds, "group": group,
                           "max_targets": max_targets}
    for (regime, name), rows in cells.items():
        out.setdefault(regime, {})[name] = {k: float(np.mean([row[k] for row in rows]))
                                            for k in rows[0]}
    for regime in counts:
        if (regime, "suggest") in cells:
            out[regime]["suggest-top"] = paired(cells[(regime, "suggest")],
                                                cells[(regime, "top")])
    return out


def paired(first: list[dict[str, float]], second: list[dict[str, float]]
           ) -> dict[str, float]:
    """Mean of `first - second` per figure over the same datasets, and its standard error
    (`se:<figure>`; 0 for fewer than two datasets)."""
    out = {}
    for key in first[0]:
        diff = np.array([a[key] - b[key] for a, b in zip(first, second, strict=True)])
        out[key] = float(diff.mean())
        out[f"se:{key}"] = (float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1
                            else 0.0)
    return out


def _targets(observed: np.ndarray, known: np.ndarray, cold_sets: np.ndarray,
             max_targets: int | None, seed: int) -> list[int]:
    """The held-out datasets with two or more hidden entries; at most `max_targets` of
    each regime (a seeded sample), in dataset order."""
    eligible = np.flatnonzero((observed & ~known).sum(axis=0) >= 2)
    if max_targets is None:
        return [int(j) for j in eligible]
    rng = np.random.default_rng(seed)
    chosen = []
    for regime in (True, False):
        pool = eligible[cold_sets[eligible] == regime]
        chosen.extend(rng.choice(pool, min(max_targets, len(pool)), replace=False))
    return sorted(int(j) for j in chosen)


def _fit(graph: TransferGraph, truth: np.ndarray, known: np.ndarray, method: str,
         seed: int) -> np.ndarray:
    """The predictor trained on the `known` entries: its scores of every pair."""
    train = graph.with_edges(known[graph.edges[:, 0], graph.edges[:, 1]])
    predictor = make_predictor(method).twin(seed)
    predictor.fit(train)
    return predictor.predict(train, train.all_pairs()).reshape(truth.shape)


def _sequential(graph: TransferGraph, truth: np.ndarray, observed: np.ndarray,
                known: np.ndarray, targets: list[int], scores: np.ndarray, method: str,
                seed: int, rounds: int) -> dict[int, np.ndarray]:
    """Round by round: each target dataset gets its best-scored unmeasured model measured,
    then the predictor is refitted on what is known now."""
    known = known.copy()
    picked: dict[int, list[int]] = {j: [] for j in targets}
    for step in range(rounds):
        measured = 0
        for j in targets:
            left = np.flatnonzero(observed[:, j] & ~known[:, j])
            if len(left):
                m = int(pick_order(scores[left, j], left)[0])
                picked[j].append(m)
                known[m, j] = True
                measured += 1
        if not measured:
            break  # every candidate measured: nothing left to refit for
        if step + 1 < rounds:
            scores = _fit(graph, truth, known, method, seed)
    return {j: np.array(v, dtype=np.int64) for j, v in picked.items()}


def _figures(values: np.ndarray, start: float, best: float, budgets: Sequence[int],
             rounds: int, target: float) -> dict[str, float]:
    """Regret (points) after each budget, and the runs needed to get under `target`."""
    found = np.maximum.accumulate(np.r_[start, values[:rounds]])  # after 0, 1, ... runs
    regret = 100.0 * (best - found)
    out = {f"regret@{b}": float(regret[min(b, len(found) - 1)]) for b in budgets}
    under = np.flatnonzero(regret < target)
    out["runs"] = float(under[0]) if len(under) else float(rounds + 1)
    return out
