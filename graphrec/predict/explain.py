"""Why a model is predicted where it is for a dataset: terms that add up, and evidence.

The terms are the same for every predictor, so that a GAT, `hla` and `auto` are explained
alike: the zoo's average accuracy; the model's effect (how it does across the datasets it
was measured on); the dataset's effect (how the predictor scores every model on this
dataset, against the zoo's average: its domain, labels and own measurements); and what
the predictor adds for this pair beyond those (metadata interactions, similar datasets,
proxy scores). They add up to the prediction by construction. `components` then says what
the last term is made of where the predictor is a blend (`auto`: each candidate's own
prediction and weight, and the pair's proxy scores); `similar` gives the datasets most like
this one on which the model was measured (shared labels, a shared domain), read from the
graph by `cypher/queries/similar-measured.cypher`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import queries
from ..errors import UsageError
from ..names import clean_name, close_names
from ..store import Store
from .versions import get_predictor
from .workflow import calibration_of, dataset_exists, load_predictor, read_graph

__all__ = ["explain"]


def explain(store: Store, dataset: str, model: str, predictor_id: str | None = None,
            k: int = 5) -> dict[str, Any]:
    """{dataset, model, predictor, score, low, high, coverage, observed, terms, components,
    similar}."""
    dataset, model = clean_name(dataset, "dataset"), clean_name(model, "model")
    queries.check_count(k, "k")
    if not dataset_exists(store, dataset):
        raise UsageError(f"no dataset named {dataset!r} in the graph; explain reads what the "
                         "graph knows of it (for a new dataset: graphrec recommend NAME "
                         "--domain ... --save first)")
    record = get_predictor(store, predictor_id)
    predictor = load_predictor(record)
    graph = read_graph(store)
    if model not in graph.models:
        close = close_names(model, graph.models)
        raise UsageError(f"no model named {model!r} in the graph"
                         + (f"; close names: {', '.join(close)}" if close else ""))
    i, j = graph.model_index(model), graph.dataset_index(dataset)
    column = np.stack([np.arange(graph.num_models), np.full(graph.num_models, j)], axis=1)
    scores = predictor.predict(graph, column)
    score = float(scores[i])
    overall = float(graph.accuracy.mean())
    mine = graph.accuracy[graph.edges[:, 0] == i]
    model_mean = float(mine.mean()) if len(mine) else overall
    dataset_mean = float(scores.mean())
    on_dataset = graph.edges[:, 1] == j
    terms = [
        {"term": "zoo average", "value": overall,
         "why": f"mean observed accuracy of {len(graph.edges)} fine-tuning results"},
        {"term": "model effect", "value": model_mean - overall,
         "why": (f"{model} averages {model_mean:.3f} over the {len(mine)} datasets it was "
                 "measured on" if len(mine) else f"{model} was measured on no dataset yet")},
        {"term": "dataset effect", "value": dataset_mean - overall,
         "why": (f"the predictor scores the {graph.num_models} models {dataset_mean:.3f} on "
                 f"average here, from the dataset's metadata and its "
                 f"{int(on_dataset.sum())} measured results")},
        {"term": "this model on this dataset", "value": score - model_mean - dataset_mean
         + overall,
         "why": "what the predictor adds for the pair: how this model does on similar "
                "datasets, metadata interactions and proxy scores (components)"},
    ]
    observed = None
    at = np.flatnonzero(on_dataset & (graph.edges[:, 0] == i))
    if len(at):
        observed = {"accuracy": float(graph.accuracy[at[0]])}
    low = high = coverage = None
    calibration = calibration_of(record)
    if calibration is not None:
        lo, hi = calibration.bounds(np.array([score]), int(on_dataset.sum()))
        low, high, coverage = float(lo[0]), float(hi[0]), calibration.coverage
    q = queries.get("similar-measured")
    similar = store.run(q.text, q.bind({"dataset": dataset, "model": model, "k": k}))
    return {"dataset": dataset, "model": model, "predictor": record["id"], "score": score,
            "low": low, "high": high, "coverage": coverage, "observed": observed, "terms": terms,
            "components": _components(predictor, graph, column, i), "similar": similar}


def _components(predictor: Any, graph: Any, column: np.ndarray, i: int) -> list[dict]:
    """A blend's parts for the pair: each fitted candidate's prediction with its weight in
    the regime's blend, and the pair's proxy scores (empty for other predictors)."""
    models = getattr(predictor, "_models", None)
    selection = getattr(predictor, "selection_", None)
    out: list[dict] = []
    if models and selection:
        j = int(column[0, 1])
        regime = "partial" if predictor._fit_datasets.get(graph.datasets[j]) else "cold"
        weights = selection[regime]["weights"]
        for name, fitted in models.items():
            out.append({"part": name, "weight": float(weights.get(name, 0.0)),
                        "prediction": float(fitted.predict(graph, column[i:i + 1])[0]),
                        "regime": regime})
        for name, weight in weights.items():
            if name not in models:  # a proxy score in the blend
                metric = name.split(":", 1)[-1]
                value = graph.score_values(metric, column[i:i + 1])[0]
                out.append({"part": name, "weight": float(weight),
                            "prediction": None if np.isnan(value) else float(value),
                            "regime": regime})
    return out
