"""Cold start: recommend for a dataset the graph has never seen, from its metadata alone.

Why not add it and run `predict`: that reads the whole graph (a minute and a gigabyte at a
million edges) and leaves the dataset in the graph, where a typo becomes a new Domain for
good. Every predictor except the GATs scores a dataset with no edges from its metadata and
the state saved with the predictor (the models' effects, the metadata interactions, the
neighbours' residuals), so graphrec reads only the models and scores in memory. The GATs'
model embeddings come from message passing over the observed edges, so for them (alone or
inside `auto`) the graph is read. The dataset is stored only when asked (`save`).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from .. import queries
from ..checks import is_integer
from ..errors import UsageError
from ..names import clean_name, clean_names, close_names
from ..store import Row, Store
from .graph import TransferGraph
from .intervals import interval_bounds
from .predicted_edges import write_predictions
from .versions import get_predictor
from .workflow import (
    add_dataset,
    calibration_of,
    dataset_exists,
    load_predictor,
    read_graph,
    read_nodes,
)

__all__ = ["UnseenMetadataWarning", "cached_predictor", "recommend_new", "unseen_metadata"]

_CACHE: OrderedDict[tuple[str, int, int], Any] = OrderedDict()
_CACHE_SIZE = 2


class UnseenMetadataWarning(UserWarning):
    """A new dataset's metadata value that no dataset in the graph has: predictors learnt
    nothing about it, so its recommendation rests on the other fields."""


def cached_predictor(record: dict[str, Any]):
    """The loaded predictor of `record`, kept for a long-lived process (`graphrec serve`,
    a notebook): loading a checkpoint costs more than scoring one dataset. Keyed by the
    checkpoint's path, size and modification time, so a retrained file is loaded again."""
    path = Path(str(record.get("checkpoint") or ""))
    try:
        info = path.stat()
    except OSError:
        return load_predictor(record)  # its clear error for a missing checkpoint
    key = (str(path), info.st_size, info.st_mtime_ns)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    predictor = load_predictor(record)
    _CACHE[key] = predictor
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return predictor


def clean_metadata(props: dict[str, Any]) -> dict[str, Any]:
    """A new dataset's metadata under the rule for names: the domain and labels stripped
    and checked (they become Domain and Label nodes); labels as a list, or text separated
    by commas; given labels that name none are an error, not an empty list. A training
    set size left out is classes x samples per class when both are given (the CLI, the
    API and `serve` alike)."""
    out = dict(props)
    if (out.get("train_size") is None and is_integer(out.get("num_classes"))
            and is_integer(out.get("samples_per_class"))
            and out["num_classes"] > 0 and out["samples_per_class"] > 0):
        out["train_size"] = int(out["num_classes"]) * int(out["samples_per_class"])
    if out.get("domain") not in (None, ""):
        out["domain"] = clean_name(str(out["domain"]), "domain")
    labels = out.get("labels")
    if labels is not None:
        given = labels.split(",") if isinstance(labels, str) else list(labels)
        out["labels"] = clean_names((str(v) for v in given if str(v).strip()), "label")
        if not out["labels"]:
            raise UsageError(f"labels {labels!r} name no label; give class names separated "
                             "by commas (--labels cat,dog,car), or leave labels out")
    return out


def unseen_metadata(store: Store, props: dict[str, Any]) -> list[str]:
    """Messages for a domain, or a label set, that the graph has never seen, with close
    names: `--domain sketchh` most likely meant `sketch`."""
    domain = props.get("domain")
    labels = [str(v) for v in props.get("labels") or []]
    if domain is None and not labels:
        return []
    row = store.run(queries.get("predict/known-metadata").text,
                    {"domain": None if domain is None else str(domain), "labels": labels})[0]
    out = []
    if domain is not None and not row["domain_known"]:
        names = [r["name"] for r in store.run(queries.get("predict/domain-names").text)]
        close = close_names(str(domain), names)
        out.append(f"domain {domain!r} is in no dataset of the graph"
                   + (f" (close names: {', '.join(close)})" if close else
                      f" (known: {', '.join(sorted(names)[:10])})" if names else "")
                   + "; predictors score it from the other metadata alone")
    if labels and not row["known_labels"]:
        q = queries.get("predict/label-names")
        names = [r["name"] for r in store.run(q.text, q.bind({}))]
        hints = sorted({c for label in labels[:20]
                        for c in close_names(label, names, n=2, cutoff=0.75)})
        out.append("none of the labels is on a dataset of the graph"
                   + (f" (close names: {', '.join(hints[:8])})" if hints else "")
                   + "; similar datasets are found by domain and metadata only")
    return out


def _models(store: Store) -> tuple[list[str], list[dict[str, Any]]]:
    rows = read_nodes(store, "models")
    return [r["name"] for r in rows], [r["props"] for r in rows]


def _graph_with(store: Store, dataset: str, props: dict[str, Any], whole: bool
                ) -> TransferGraph:
    """The graph to score the new dataset in: every model and the dataset alone, or (for
    predictors that read the edges) the whole graph with the dataset added."""
    if not whole:
        models, model_props = _models(store)
        return TransferGraph(models, [dataset], model_props, [props],
                             np.zeros((0, 2), dtype=np.int64), np.zeros(0))
    g = read_graph(store)
    return TransferGraph(g.models, [*g.datasets, dataset], g.model_props,
                         [*g.dataset_props, props], g.edges, g.accuracy, g.scores)


def recommend_new(store: Store, dataset: str, props: dict[str, Any], k: int = 5,
                  predictor_id: str | None = None, *, save: bool = False) -> list[Row]:
    """Models ranked for a dataset with no history, scored by the current predictor (no
    retraining). Metadata values the graph has never seen raise `UnseenMetadataWarning`.
    With `save`, the dataset is added to the graph, with its predictions when the
    predictor has a complete version."""
    dataset = clean_name(dataset, "dataset")
    props = clean_metadata(props)
    queries.check_count(k, "k")
    if dataset_exists(store, dataset):
        raise UsageError(f"dataset {dataset!r} is already in the graph; drop the metadata "
                         "options to recommend for it")
    record = get_predictor(store, predictor_id)
    predictor = cached_predictor(record)
    clean = {key: v for key, v in props.items() if v not in (None, "", [])}
    for message in unseen_metadata(store, clean):
        warnings.warn(message, UnseenMetadataWarning, stacklevel=2)
    graph = _graph_with(store, dataset, clean, bool(predictor.cold_start_reads_graph))
    column = graph.num_datasets - 1
    pairs = np.stack([np.arange(graph.num_models), np.full(graph.num_models, column)], axis=1)
    scores = predictor.predict(graph, pairs)
    order = sorted(range(graph.num_models), key=lambda i: (-scores[i], graph.models[i]))
    calibration = calibration_of(record)
    low, high = (calibration.bounds(scores, 0) if calibration
                 else (np.full(len(scores), np.nan),) * 2)
    if save:
        add_dataset(store, dataset, clean)
        if record.get("version"):  # into the served set, cut as that set was
            top = order[:record["top_k"]] if record.get("top_k") else order
            write_predictions(store, graph, pairs[top], scores[top], record["id"],
                              record["version"], interval_bounds(calibration, graph))
            store.run(queries.get("predict/adjust-predicted").text,
                      {"id": record["id"], "delta": len(top)}, write=True)
    return [{"model": graph.models[i], "family": graph.model_props[i].get("family"),
             "source": "predicted", "score": float(scores[i]),
             "low": None if np.isnan(low[i]) else float(low[i]),
             "high": None if np.isnan(high[i]) else float(high[i]),
             "runs": None, "std": None, "min": None, "max": None, "predictor": record["id"]}
            for i in order[:k]]
