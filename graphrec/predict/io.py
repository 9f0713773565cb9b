"""Build a `TransferGraph` from validated input files or from the database."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..loaders.zoodata import ZooData
from .graph import TransferGraph


def from_zoo(zoo: ZooData) -> TransferGraph:
    """The graph that ingesting `zoo` into an empty database would hold.

    Nodes keep the input's order (metadata rows first, then names only records mention), so
    for the paper's data row i of the authors' feature files is dataset i here.
    """
    models = list(dict.fromkeys([*zoo.models, *(m for m, _ in zoo.transfers)]))
    datasets = list(dict.fromkeys([*zoo.datasets, *(d for _, d in zoo.transfers)]))
    mi = {n: i for i, n in enumerate(models)}
    di = {n: j for j, n in enumerate(datasets)}
    pairs = sorted(zoo.transfers, key=lambda p: (mi[p[0]], di[p[1]]))
    edges = np.array([[mi[m], di[d]] for m, d in pairs], dtype=np.int64).reshape(-1, 2)
    accuracy = np.array([zoo.transfer_props(p)["accuracy"] for p in pairs], dtype=np.float64)

    def props(table: dict, name: str) -> dict[str, Any]:
        entity = table.get(name)
        return {"name": name, **(entity.props if entity else {})}

    return TransferGraph(models, datasets, [props(zoo.models, n) for n in models],
                         [props(zoo.datasets, n) for n in datasets], edges, accuracy,
                         scores_by_metric(zoo.scores.items(), mi, di))


def scores_by_metric(rows: Iterable[tuple[tuple[str, str, str], float]],
                     model_index: dict[str, int], dataset_index: dict[str, int]
                     ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`TransferGraph.scores` from ((model, dataset, metric), value) rows; a score for a
    model or dataset the indexes lack is dropped."""
    grouped: dict[str, tuple[list[tuple[int, int]], list[float]]] = {}
    for (model, dataset, metric), value in rows:
        m, d = model_index.get(model), dataset_index.get(dataset)
        if m is None or d is None:
            continue
        pairs, values = grouped.setdefault(metric, ([], []))
        pairs.append((m, d))
        values.append(float(value))
    return {metric: (np.array(pairs, dtype=np.int64).reshape(-1, 2),
                     np.array(values, dtype=np.float64))
            for metric, (pairs, values) in sorted(grouped.items())}
