"""Which fine-tuning runs to do next, and why.

For one dataset: the unmeasured models with the best predicted scores, each with its
interval, the chance it beats the best accuracy measured so far and its expected
improvement over it (a Normal read off the calibrated interval). The loop this serves:
fine-tune the first suggestion, `graphrec ingest` the result, `graphrec train`, ask
again. `benchmarks/bench_suggest.py` simulates that loop on held-out datasets of real zoos
(`graphrec.benchmark.sequential`) against fixing the top N in advance.

For the whole zoo (no dataset): one pair per dataset, its best unmeasured model, ranked
by expected improvement over the dataset's best measured accuracy (0 where nothing is
measured, so datasets with no history come first): the runs that would change the most
recommendations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from .. import queries
from ..errors import UsageError
from ..names import clean_name
from ..store import Row, Store
from .versions import get_predictor
from .workflow import calibration_of, recommend, served

__all__ = ["pick_order", "suggest"]


def pick_order(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """`candidates` best-scored first (ties: lower index first)."""
    order = np.lexsort((candidates, -np.asarray(scores, dtype=np.float64)))
    return np.asarray(candidates)[order]


def suggest(store: Store, dataset: str | None, budget: int,
            predictor_id: str | None = None) -> dict[str, Any]:
    """{"dataset", "best_measured", "picks": [...], "predictor"}; without `dataset`,
    {"picks": [...]} of (model, dataset) pairs across the zoo."""
    queries.check_count(budget, "budget")
    record = get_predictor(store, predictor_id)
    if not record.get("version"):
        raise UsageError(f"predictor {record['id']!r} has no complete predictions to choose "
                         "from; run graphrec predict first")
    calibration = calibration_of(record)
    if dataset is None:
        return {"predictor": record["id"], "picks": _zoo(store, record, budget, calibration)}
    dataset = clean_name(dataset, "dataset")
    rows = recommend(store, dataset, None, record["id"])
    measured = [r["score"] for r in rows if r["source"] == "observed"]
    best = max(measured) if measured else None
    unmeasured = [r for r in rows if r["source"] == "predicted"]
    if not unmeasured:
        raise UsageError(f"every model with a prediction for {dataset!r} is measured there "
                         f"already ({len(measured)} results); nothing left to suggest")
    picks = [_why(r, best, len(measured), calibration, rank)
             for rank, r in enumerate(unmeasured[:budget], start=1)]
    return {"dataset": dataset, "predictor": record["id"], "best_measured": best,
            "measured": len(measured), "picks": picks}


def _normal(row: Row, calibration: Any, measured: int) -> tuple[float, float | None]:
    """(mean, sd) of a predicted accuracy on a dataset with `measured` results: the
    score, and the calibrated offsets (before clipping to [0, 1]) read as a Normal's
    central `coverage` (None without intervals)."""
    if calibration is None:
        return float(row["score"]), None
    z = norm.ppf((1 + calibration.coverage) / 2)
    low, high = calibration.offsets(measured)
    return float(row["score"]), max(1e-6, float(high - low) / (2 * z))


def _why(row: Row, best: float | None, measured: int, calibration: Any, rank: int
         ) -> dict[str, Any]:
    mean, sd = _normal(row, calibration, measured)
    pick = {"rank": rank, "model": row["model"], "family": row.get("family"),
            "score": mean, "low": row.get("low"), "high": row.get("high"),
            "p_beats_best": None, "expected_improvement": None}
    if best is None:
        pick["reason"] = (f"predicted {mean:.3f}" + _interval(row) + ", the best prediction "
                          "left" if rank == 1 else f"predicted {mean:.3f}" + _interval(row)
                          + f", rank {rank} among the unmeasured models")
        return pick
    if sd is not None:
        u = (mean - best) / sd
        pick["p_beats_best"] = float(norm.cdf(u))
        pick["expected_improvement"] = float(sd * (u * norm.cdf(u) + norm.pdf(u)))
        pick["reason"] = (f"predicted {mean:.3f}" + _interval(row)
                          + f": {pick['p_beats_best']:.0%} chance to beat the best measured "
                          f"{best:.3f}, expected gain {100 * pick['expected_improvement']:.2f} "
                          "points")
    else:
        pick["reason"] = f"predicted {mean:.3f} against the best measured {best:.3f}"
    return pick


def _interval(row: Row) -> str:
    return (f" ({row['low']:.3f} .. {row['high']:.3f})" if row.get("low") is not None
            else "")


def _zoo(store: Store, record: dict[str, Any], budget: int, calibration: Any) -> list[dict]:
    """One pair per dataset (its best prediction), by expected improvement over the
    dataset's best measured accuracy."""
    q = queries.get("predict/best-unmeasured")
    rows = store.run(q.text, q.bind(served(record)))
    picks = []
    for row in rows:
        best = row["best_measured"]
        mean, sd = _normal(row, calibration, int(row["measured"]))
        floor = 0.0 if best is None else best
        if sd is None:
            gain = max(0.0, mean - floor)
        else:
            u = (mean - floor) / sd
            gain = float(sd * (u * norm.cdf(u) + norm.pdf(u)))
        picks.append({"model": row["model"], "dataset": row["dataset"], "score": mean,
                      "low": row.get("low"), "high": row.get("high"),
                      "best_measured": best, "measured": row["measured"],
                      "expected_improvement": gain,
                      "reason": ("nothing measured on this dataset yet" if best is None else
                                 f"best measured {best:.3f} of {row['measured']} runs; "
                                 f"predicted {mean:.3f}" + _interval(row))})
    picks.sort(key=lambda p: (-p["expected_improvement"], p["dataset"], p["model"]))
    return [{"rank": n, **p} for n, p in enumerate(picks[:budget], start=1)]
