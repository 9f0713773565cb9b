"""Node features for the predictors that read them (`linear`, `scg4trf`, `g4trf`).

`NodeFeatures` turns a graph's models and datasets into feature rows (explicit arrays, else
the default `NodeEncoder` of each side) and node identities (indices into the name
vocabularies `fit` saw); `FeaturePredictor` is the base of the predictors built on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Predictor
from .checkpoint import as_array
from .features import NodeEncoder, TextEmbedder, dataset_encoder, model_encoder
from .graph import TransferGraph, positions

__all__ = ["FeaturePredictor", "NodeFeatures"]


class NodeFeatures:
    """Feature rows and node identities for a graph's models and datasets.

    A side with an explicit array (rows aligned with the graph's nodes) uses it as is. The
    other side gets its default `NodeEncoder`, fitted on the training graph so that nodes
    added later encode into the same columns, and, with `identity`, the vocabulary of its
    node names as `fit` saw them: the authors' own features carry a one-hot of the name, and
    without it two models with similar metadata cannot get different scores. Identity is
    handed to the predictors as indices into that vocabulary (`ids`), never as one-hot
    columns, so it costs O(nodes), not O(nodes^2). A name `fit` never saw gets -1 (no
    identity, as an all-zero one-hot), so new nodes fall back on their metadata.
    """

    def __init__(self, model_features: np.ndarray | None,
                 dataset_features: np.ndarray | None, identity: bool,
                 text: bool = False) -> None:
        self.explicit = {"model": _explicit(model_features, "model_features"),
                         "dataset": _explicit(dataset_features, "dataset_features")}
        self.identity = identity
        self.text = text  # add sentence embeddings of domain and label names to datasets
        self.encoders: dict[str, NodeEncoder] = {}
        self.names: dict[str, list[str]] = {}
        self._index: dict[str, dict[str, int]] = {}

    @staticmethod
    def _sides(graph: TransferGraph) -> tuple[tuple[str, Any, list, list[str]], ...]:
        return (("model", model_encoder, graph.model_props, graph.models),
                ("dataset", dataset_encoder, graph.dataset_props, graph.datasets))

    def fit(self, graph: TransferGraph) -> NodeFeatures:
        self.encoders, names = {}, {}
        for side, make, props, side_names in self._sides(graph):
            if self.explicit[side] is None:
                self.encoders[side] = make().fit(props)
                if self.identity:
                    names[side] = list(dict.fromkeys(side_names))
        self._set_names(names)
        return self

    def _set_names(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self._index = {side: {n: k for k, n in enumerate(ns)} for side, ns in names.items()}

    def transform(self, graph: TransferGraph) -> tuple[np.ndarray, np.ndarray]:
        """(model rows, dataset rows), float64; a side with no columns gets one of ones."""
        out = []
        for side, _, props, names in self._sides(graph):
            explicit = self.explicit[side]
            if explicit is not None:
                if len(explicit) != len(names):
                    raise ValueError(f"{side}_features has {len(explicit)} rows but the graph "
                                     f"has {len(names)} {side}s; give one row per {side} of "
                                     "the graph you fit or predict on, in its order")
                rows = explicit.astype(np.float64)
            else:
                rows = self.encoders[side].transform(props).astype(np.float64)
                if self.text and side == "dataset":
                    rows = np.concatenate([rows, TextEmbedder.dataset_rows(props)], axis=1)
            if rows.shape[1] == 0:  # no usable metadata: still tell the node types apart
                rows = np.ones((len(names), 1))
            out.append(rows)
        return out[0], out[1]

    def num_ids(self, side: str) -> int:
        """Size of a side's name vocabulary (0: that side has no identity)."""
        return len(self.names.get(side, ()))

    def ids(self, graph: TransferGraph) -> tuple[np.ndarray, np.ndarray]:
        """(model ids, dataset ids): each node's index in its side's vocabulary, else -1."""
        out = [positions(names, self._index.get(side, {}))
               for side, _, _, names in self._sides(graph)]
        return out[0], out[1]

    @property
    def both_explicit(self) -> bool:
        return all(v is not None for v in self.explicit.values())

    def state(self) -> dict[str, Any]:
        return {"encoders": {key: enc.state_dict() for key, enc in self.encoders.items()},
                "names": {side: list(ns) for side, ns in self.names.items()}}

    def load_state(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or set(state) != {"encoders", "names"}:
            raise ValueError("the checkpoint's feature state is not in this graphrec's format "
                             "(one written before node identities became name vocabularies?); "
                             "train the predictor again")
        self.encoders = {key: NodeEncoder.from_state(s) for key, s in state["encoders"].items()}
        missing = [s for s, v in self.explicit.items() if v is None and s not in self.encoders]
        if missing:
            raise ValueError(f"the state has no encoder for the {' and '.join(missing)} nodes "
                             "and the config gives no feature array for them")
        names = {side: [str(n) for n in ns] for side, ns in state["names"].items()}
        expected = {s for s, v in self.explicit.items() if v is None} if self.identity else set()
        if set(names) != expected:
            raise ValueError(f"the state has name vocabularies for {sorted(names)} but the "
                             f"config asks for {sorted(expected)}")
        self._set_names(names)


def _explicit(value: Any, what: str) -> np.ndarray | None:
    value = as_array(value)
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be a 2-D numeric array (one row per node), "
                         f"got shape {arr.shape} and dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} holds NaN or infinite values")
    return arr


class FeaturePredictor(Predictor):
    """A predictor that reads node features: explicit arrays, else the default encoders."""

    identity: bool
    text: bool = False
    model_features: np.ndarray | None
    dataset_features: np.ndarray | None

    def _new_features(self) -> NodeFeatures:
        """Unfitted features of this configuration (checks the explicit arrays)."""
        return NodeFeatures(self.model_features, self.dataset_features, bool(self.identity),
                            bool(self.text))
