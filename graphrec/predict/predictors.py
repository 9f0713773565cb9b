"""Predictors of missing transferability edges: the paper's GAT models and two baselines.

Every predictor has scikit-learn's shape: configure in `__init__`, learn in `fit`, answer in
`predict`. `predict` takes the graph again because at prediction time it may hold nodes
`fit` never saw (a cold-start dataset with metadata and no edges); those are encoded with the
encoders fitted in `fit`. `save`/`load` write one `torch.save` file that `load` reads back
with `weights_only=True`, so a checkpoint cannot run code.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import checkpoint
from .features import NodeEncoder, TextEmbedder, dataset_encoder, model_encoder
from .graph import TransferGraph
from .nn import PairDecoder, TransferEncoder
from .pair_scores import PairScores, check_use_scores, select_metrics
from .stacked import StackedTransferModel, edge_log_counts

__all__ = [
    "G4TrfPredictor",
    "GATPredictor",
    "LinearPredictor",
    "MeanPredictor",
    "Predictor",
    "SCG4TrfPredictor",
]


def _check_graph(graph: TransferGraph) -> None:
    """What every `fit` needs: at least one observed edge, with a usable accuracy."""
    if len(graph.edges) == 0:
        raise ValueError(f"the graph has no observed edges ({graph.num_models} models, "
                         f"{graph.num_datasets} datasets): a predictor learns from known "
                         "accuracies, so give it some")
    if not np.all(np.isfinite(graph.accuracy)):
        bad = int(np.count_nonzero(~np.isfinite(graph.accuracy)))
        raise ValueError(f"{bad} observed accuracies are NaN or infinite; drop those edges "
                         "before fitting")


def _check_pairs(graph: TransferGraph, pairs: Any) -> np.ndarray:
    """`pairs` as an int64 (P, 2) array of valid [model index, dataset index] rows."""
    arr = np.asarray(pairs)
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"pairs must hold integer indices, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"pairs must have shape (P, 2) [model index, dataset index], "
                         f"got {arr.shape}")
    arr = arr.astype(np.int64, copy=False)
    for col, n, what in ((0, graph.num_models, "model"), (1, graph.num_datasets, "dataset")):
        bad = (arr[:, col] < 0) | (arr[:, col] >= n)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"pair {k} names {what} index {int(arr[k, col])}, but the graph "
                             f"has {n} {what}s (valid: 0..{n - 1})")
    return arr


def _check_integer(what: str, value: Any, low: int) -> None:
    """Constructor check shared by the predictors: an integer (not a bool) >= `low`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{what} must be an integer >= {low}, got {value!r}")


def _check_number(what: str, value: Any, low: float, *, strict: bool = False) -> None:
    """Constructor check shared by the predictors: a real number (not a bool) >= `low`, or
    > `low` when `strict`; NaN fails either way."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and (
        value > low if strict else value >= low)
    if not ok:
        raise ValueError(f"{what} must be a number {'>' if strict else '>='} {low}, "
                         f"got {value!r}")


def _positions(names: Sequence[str], index: Mapping[str, int]) -> np.ndarray:
    """Each name's position in a fitted vocabulary (`index`: name -> position), -1 for a
    name `fit` never saw."""
    return np.fromiter((index.get(n, -1) for n in names), dtype=np.int64, count=len(names))


def _read_checkpoint(path: Path) -> Any:
    """What `torch.load` finds in `path`, data only; a ValueError saying what is wrong."""
    import pickle
    import zipfile

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower():  # the safe unpickler met code to run
            raise ValueError(f"{path}: holds Python objects that loading would have to run "
                             "as code, which graphrec refuses (a checkpoint graphrec writes "
                             "holds data only): it is not one of graphrec's, or was "
                             "tampered with") from None
        raise ValueError(f"{path}: not a torch checkpoint (unreadable: {exc})") from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, UnicodeDecodeError,
            KeyError, ValueError, AttributeError, TypeError, IndexError) as exc:
        first = str(exc).split(". ", 1)[0].strip()
        detail = (first if isinstance(exc, RuntimeError) and first
                  else f"{type(exc).__name__} {first}".strip())
        raise ValueError(f"{path}: not a readable torch checkpoint (truncated, or another "
                         f"kind of file: {detail})") from None


def _as_array(value: Any) -> np.ndarray | None:
    """Config arrays come back from a checkpoint as tensors; hand them on as numpy."""
    if isinstance(value, torch.Tensor):
        return value.numpy()
    return value


class _NodeFeatures:
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

    def fit(self, graph: TransferGraph) -> _NodeFeatures:
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
        out = [_positions(names, self._index.get(side, {}))
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
    value = _as_array(value)
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be a 2-D numeric array (one row per node), "
                         f"got shape {arr.shape} and dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} holds NaN or infinite values")
    return arr


class Predictor(ABC):
    """Predicts the accuracy of (model, dataset) pairs from a `TransferGraph`.

    Subclasses implement `_fit` and `_predict`; the public methods check inputs once, here,
    so that every predictor fails the same way on the same bad input.
    """

    name: ClassVar[str]
    #: Whether scoring a dataset with no edges reads other datasets' edges from the graph
    #: it is given (the GATs' message passing). If not, a cold start scores the new dataset
    #: in a graph of the models and that dataset alone (`graphrec.predict.cold`).
    cold_start_reads_graph: ClassVar[bool] = False

    def __init__(self) -> None:
        self._fitted = False

    def fit(self, graph: TransferGraph) -> Self:
        """Learn from the observed edges (and node metadata) of `graph`."""
        self._fitted = False  # a failed refit must not leave half-replaced state usable
        _check_graph(graph)
        self._check_config()
        self._fit(graph)
        self._fitted = True
        return self

    def predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        """Scores in [0, 1] (float64, shape (P,)) of `pairs` [model idx, dataset idx] of `graph`.

        `graph` may differ from the one `fit` saw (new nodes, other known edges): names and
        metadata, not positions, tie it to what was learnt.
        """
        return self.scorer(graph)(pairs)

    def scorer(self, graph: TransferGraph) -> Callable[[np.ndarray], np.ndarray]:
        """`predict` for one graph, called many times: the per-graph work (the GAT's node
        embeddings) is done once, for callers that score a large graph chunk by chunk."""
        if not self._fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted: call fit() first "
                               "(or Predictor.load a checkpoint)")
        score_pairs = self._scorer(graph)

        def score(pairs: np.ndarray) -> np.ndarray:
            checked = _check_pairs(graph, pairs)
            if len(checked) == 0:
                return np.zeros(0, dtype=np.float64)
            return np.clip(np.asarray(score_pairs(checked), dtype=np.float64), 0.0, 1.0)

        return score

    def _scorer(self, graph: TransferGraph) -> Callable[[np.ndarray], np.ndarray]:
        """Bind `graph`; subclasses with costly per-graph work do it here, once."""
        return lambda pairs: self._predict(graph, pairs)

    def fit_predict_many(self, graphs: Sequence[TransferGraph], *,
                         seeds: Sequence[int] | None = None,
                         snapshots: Sequence[int] | None = None,
                         progress: bool = False) -> np.ndarray:
        """Fit one fresh copy of this predictor per graph and score every pair of it.

        What a benchmark does with R masks of one matrix. Copy g gets this predictor's
        configuration with `seed = seeds[g]` (for predictors that take a seed). Returns
        float64 scores of shape (len(snapshots), len(graphs), models, datasets): iterative
        predictors give their scores after each epoch count in `snapshots` (one training run,
        read along the way; default: the last epoch only), the others the same scores for
        every snapshot. Subclasses may fit the copies together, as long as each copy's
        result is the one it would have alone.
        """
        graphs = list(graphs)
        seeds = self._seeds(seeds, len(graphs))
        steps = self._snapshots(snapshots)
        shape = {(g.num_models, g.num_datasets) for g in graphs}
        if len(shape) > 1:
            raise ValueError(f"the graphs must have the same models and datasets, got shapes "
                             f"{sorted(shape)}")
        out = np.empty((len(steps), len(graphs), *next(iter(shape), (0, 0))))
        config = self.get_config()
        for g, graph in enumerate(tqdm(graphs, desc=self.name, disable=not progress,
                                       leave=False)):
            twin = type(self)(**({**config, "seed": seeds[g]} if "seed" in config else config))
            twin.fit(graph)
            scores = twin.predict(graph, graph.all_pairs())
            out[:, g] = scores.reshape(graph.num_models, graph.num_datasets)
        return out

    @staticmethod
    def _seeds(seeds: Sequence[int] | None, n: int) -> list[int]:
        seeds = list(range(n)) if seeds is None else [int(s) for s in seeds]
        if len(seeds) != n:
            raise ValueError(f"give one seed per graph: {n} graphs, {len(seeds)} seeds")
        return seeds

    def _snapshots(self, snapshots: Sequence[int] | None) -> list[int]:
        """Epoch counts to report; predictors without epochs have a single state."""
        return [0] if snapshots is None else [int(s) for s in snapshots]

    @abstractmethod
    def _fit(self, graph: TransferGraph) -> None: ...

    @abstractmethod
    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray: ...

    def _check_config(self) -> None:
        """Reject bad constructor arguments when fitting, as scikit-learn does."""
        return None

    @property
    def scores_used(self) -> list[str]:
        """The proxy-score metrics (SCORED edges) the fitted predictor reads."""
        pairs = getattr(self, "_pairs", None)
        return list(pairs.metrics) if isinstance(pairs, PairScores) else []

    @abstractmethod
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments: `type(self)(**get_config())` is an unfitted twin."""

    @abstractmethod
    def get_state(self) -> dict[str, Any]:
        """What `fit` learnt, as tensors and plain Python values."""

    @abstractmethod
    def set_state(self, state: dict[str, Any]) -> None:
        """Become the fitted predictor that `get_state` described."""

    def save(self, path: str | Path) -> None:
        """One file holding the name, config and learnt state (arrays stored as tensors)."""
        from .. import __version__

        if not self._fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted: nothing to save")
        config = {k: torch.tensor(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v
                  for k, v in self.get_config().items()}
        torch.save({"predictor": self.name, "config": config,
                    "state": checkpoint.pack(self.get_state()),
                    "graphrec_version": __version__}, Path(path))

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> Predictor:
        """The predictor saved at `path`, as the subclass it was saved from.

        `device` overrides the saved one (a GPU-trained model loaded on a CPU machine).
        Every defect of the file (truncated, another kind of file, a pickle that would run
        code, a state this graphrec cannot read) is a ValueError saying which; loading never
        runs code from the file (`weights_only=True`).
        """
        from .registry import PREDICTORS

        data = _read_checkpoint(Path(path))
        if not isinstance(data, dict) or "predictor" not in data:
            raise ValueError(f"{path}: not a graphrec predictor checkpoint")
        name = data["predictor"]
        if not isinstance(name, str) or name not in PREDICTORS:
            raise ValueError(f"{path}: unknown predictor {name!r} (this graphrec knows "
                             f"{', '.join(PREDICTORS)})")
        target = PREDICTORS[name]
        if not issubclass(target, cls):
            raise ValueError(f"{path} holds a {target.__name__}, not a {cls.__name__}")
        try:
            config = {k: _as_array(v) for k, v in data["config"].items()}
            if device is not None and "device" in config:
                config["device"] = device
            predictor = target(**config)
            predictor.set_state(checkpoint.unpack(data["state"]))
        except ValueError:
            raise
        except (KeyError, TypeError, AttributeError, IndexError, RuntimeError) as exc:
            raise ValueError(f"{path}: its {name} state is not one this graphrec can read "
                             f"({type(exc).__name__}: {exc})") from exc
        predictor._fitted = True
        return predictor

    def __repr__(self) -> str:
        def show(v: Any) -> str:
            return f"<array {v.shape}>" if isinstance(v, np.ndarray) else repr(v)

        args = ", ".join(f"{k}={show(v)}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MeanPredictor(Predictor):
    """Popularity: a model's mean observed accuracy, whatever the dataset.

    The floor any learnt predictor must beat; a model with no observed edge (or one `fit`
    never saw) gets the global mean.
    """

    name = "mean"

    def __init__(self) -> None:
        super().__init__()
        self.models_: list[str] = []
        self.means_ = np.zeros(0)
        self.global_mean_ = math.nan

    def _fit(self, graph: TransferGraph) -> None:
        sums = np.bincount(graph.edges[:, 0], weights=graph.accuracy,
                           minlength=graph.num_models)
        counts = np.bincount(graph.edges[:, 0], minlength=graph.num_models)
        self.global_mean_ = float(graph.accuracy.mean())
        self.models_ = list(graph.models)
        self.means_ = np.where(counts > 0, sums / np.maximum(counts, 1), self.global_mean_)

    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        known = dict(zip(self.models_, self.means_.tolist(), strict=True))
        per_model = np.array([known.get(m, self.global_mean_) for m in graph.models])
        return per_model[pairs[:, 0]]

    def get_config(self) -> dict[str, Any]:
        return {}

    def get_state(self) -> dict[str, Any]:
        return {"models": list(self.models_), "means": torch.from_numpy(self.means_.copy()),
                "global_mean": self.global_mean_}

    def set_state(self, state: dict[str, Any]) -> None:
        self.models_ = list(state["models"])
        self.means_ = _as_array(state["means"]).astype(np.float64)
        self.global_mean_ = float(state["global_mean"])
        self._fitted = True


class _FeaturePredictor(Predictor):
    """A predictor that reads node features: explicit arrays, else the default encoders."""

    identity: bool
    text: bool = False
    model_features: np.ndarray | None
    dataset_features: np.ndarray | None

    def _new_features(self) -> _NodeFeatures:
        return _NodeFeatures(self.model_features, self.dataset_features, bool(self.identity),
                             bool(self.text))


def _group_sum(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Row k of the result: the sum of the rows of `values` whose `index` is k (float64)."""
    out = torch.zeros((n, *values.shape[1:]), dtype=torch.float64)
    out.index_add_(0, torch.from_numpy(np.ascontiguousarray(index, dtype=np.int64)),
                   torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)))
    return out.numpy()


def _shared_gram(small: np.ndarray, large: np.ndarray, weight: np.ndarray, n_small: int,
                 chunk: int = 1 << 22) -> np.ndarray:
    """`sum_l weight[l] c_l c_l^T`, with `c_l[s]` the number of edges e where
    `(small[e], large[e]) == (s, l)`: an (n_small, n_small) matrix.

    Every ordered pair of edges that share their `large` id adds its weight at
    `[small[e], small[e']]`; the pairs are made `chunk` at a time, so the work and memory are
    O(sum of squared group sizes) and O(chunk + n_small^2).
    """
    out = np.zeros(n_small * n_small)
    if len(large) == 0:
        return out.reshape(n_small, n_small)
    order = np.argsort(large, kind="stable")
    small, large = small[order], large[order]
    starts = np.flatnonzero(np.r_[True, large[1:] != large[:-1]])
    sizes = np.diff(np.r_[starts, len(large)])
    first, size = np.repeat(starts, sizes), np.repeat(sizes, sizes)  # per edge: its group
    ends = np.cumsum(size)
    lo = 0
    while lo < len(large):
        hi = max(lo + 1, int(np.searchsorted(ends, ends[lo] - size[lo] + chunk, side="right")))
        k = size[lo:hi]
        a = np.repeat(np.arange(lo, hi), k)
        b = np.repeat(first[lo:hi] - (np.cumsum(k) - k), k) + np.arange(len(a))
        out += np.bincount(small[a] * n_small + small[b], weights=weight[large[a]],
                           minlength=n_small * n_small)
        lo = hi
    return out.reshape(n_small, n_small)


class LinearPredictor(_FeaturePredictor):
    """The paper's LR baseline (Li et al., CVPR 2023): ridge on [model || dataset] features.

    Closed form, with an unpenalised intercept. Additive in the two sides, so within a
    dataset it orders the models the same way everywhere; the dataset side sets the level:
    `score = intercept + f_model . coef_model + f_dataset . coef_dataset + model offset +
    dataset offset + s_pair . coef_pair`, the offsets (per name, with `identity`; 0 for
    names `fit` never saw) being the ridge coefficients of the names' one-hot columns, and
    `s_pair` the pair's proxy scores (`use_scores`; see `pair_scores`), the one term that
    can order the models differently per dataset.

    The result is the ridge solution over the dense design [model features || model one-hot
    || dataset features || dataset one-hot], but that design is never built (it would be
    edges x (models + datasets)). In the normal equations the one-hots of the side with more
    names (the datasets, usually) form a diagonal block, so their offsets are eliminated in
    closed form (Schur complement) and recovered after the solve; the dense system left has
    1 + features + names of the smaller side unknowns. Memory is O(nodes x features +
    (features + smaller side)^2), never O(larger side^2); the edges are streamed in chunks.
    With `alpha=0` the least-squares solution is not unique once identities are on (the
    one-hots sum to the intercept), and `fit` returns one of them.
    """

    name = "linear"
    _CHUNK: ClassVar[int] = 1 << 16  # edges per block of the streamed sums

    def __init__(self, alpha: float = 1.0, identity: bool = True, text: bool = False,
                 use_scores: bool | str | Sequence[str] = True,
                 model_features: np.ndarray | None = None,
                 dataset_features: np.ndarray | None = None) -> None:
        super().__init__()
        self.alpha = alpha
        self.identity = identity
        self.text = text
        self.use_scores = use_scores
        self.model_features = model_features
        self.dataset_features = dataset_features
        self.intercept_ = 0.0
        self.coef_model_ = np.zeros(0)
        self.coef_dataset_ = np.zeros(0)
        self.coef_pair_ = np.zeros(0)
        self._pairs = PairScores([])
        self.model_offsets_ = np.zeros(0)
        self.dataset_offsets_ = np.zeros(0)
        self._features = self._new_features()

    def _check_config(self) -> None:
        _check_number("alpha", self.alpha, 0)
        check_use_scores(self.use_scores)

    def _fit(self, graph: TransferGraph) -> None:
        self._features = features = self._new_features().fit(graph)
        self._pairs = PairScores(select_metrics(graph, self.use_scores))
        alpha = float(self.alpha)
        fm, fd = features.transform(graph)
        fp = self._pairs.transform(graph, graph.edges)
        model_ids, dataset_ids = features.ids(graph)
        i, j, y = graph.edges[:, 0], graph.edges[:, 1], graph.accuracy
        n_edges, n_fm, n_fd = len(y), fm.shape[1], fd.shape[1]
        # Centre the feature columns on their mean over the edges (the intercept absorbs it):
        # better conditioned normal equations, the same fit.
        mean_m = np.bincount(i, minlength=len(fm)) @ fm / n_edges
        mean_d = np.bincount(j, minlength=len(fd)) @ fd / n_edges
        mean_p = fp.mean(axis=0)
        fm, fd, fp = fm - mean_m, fd - mean_d, fp - mean_p

        # Identity sides: the larger is eliminated (L), the other (S) stays in the dense solve.
        sides = {"model": (model_ids[i], features.num_ids("model")),
                 "dataset": (dataset_ids[j], features.num_ids("dataset"))}
        with_ids = sorted((s for s in sides if sides[s][1]),
                          key=lambda s: (sides[s][1], s == "dataset"))
        large = with_ids[-1] if with_ids else None
        small = with_ids[0] if len(with_ids) == 2 else None
        lid, n_l = sides[large] if large else (np.zeros(n_edges, np.int64), 0)
        sid, n_s = sides[small] if small else (np.zeros(n_edges, np.int64), 0)

        def rows(lo: int, hi: int) -> np.ndarray:  # dense design of edges lo..hi
            return np.concatenate([np.ones((hi - lo, 1)), fm[i[lo:hi]], fd[j[lo:hi]],
                                   fp[lo:hi]], axis=1)

        blocks = [(lo, min(lo + self._CHUNK, n_edges)) for lo in range(0, n_edges, self._CHUNK)]
        n_dense = 1 + n_fm + n_fd + fp.shape[1]
        gram = np.zeros((n_dense, n_dense))
        rhs = np.zeros(n_dense)
        per_l = np.zeros((n_l, n_dense))  # one-hot(L)^T x dense design
        per_s = np.zeros((n_s, n_dense))  # one-hot(S)^T x dense design
        for lo, hi in blocks:
            x = rows(lo, hi)
            gram += x.T @ x
            rhs += x.T @ y[lo:hi]
            if n_l:
                per_l += _group_sum(lid[lo:hi], x, n_l)
            if n_s:
                per_s += _group_sum(sid[lo:hi], x, n_s)
        count_l = np.bincount(lid, minlength=n_l)[:n_l].astype(np.float64)
        y_l = np.bincount(lid, weights=y, minlength=n_l)[:n_l]
        # The L block of the normal equations is diag(count + alpha); a name with no edge
        # (and alpha = 0) has an all-zero column: its offset is 0.
        w = np.divide(1.0, count_l + alpha, out=np.zeros(n_l), where=count_l + alpha > 0)
        gram -= per_l.T @ (per_l * w[:, None])
        rhs -= per_l.T @ (w * y_l)
        if n_s:
            for lo, hi in blocks:
                per_s -= _group_sum(sid[lo:hi], per_l[lid[lo:hi]] * w[lid[lo:hi], None], n_s)
            count_s = np.bincount(sid, minlength=n_s).astype(np.float64)
            corner = np.diag(count_s) - _shared_gram(sid, lid, w, n_s)
            gram = np.block([[gram, per_s.T], [per_s, corner]])
            rhs = np.concatenate([rhs, np.bincount(sid, weights=y - (w * y_l)[lid],
                                                   minlength=n_s)])
        penalty = np.full(len(rhs), alpha)
        penalty[0] = 0.0  # the intercept
        gram[np.diag_indices_from(gram)] += penalty
        if alpha > 0:
            coef = np.linalg.solve(gram, rhs)
        else:
            coef = np.linalg.lstsq(gram, rhs, rcond=None)[0]
        dense, offsets_s = coef[:n_dense], coef[n_dense:]
        residual_l = y_l - per_l @ dense  # back-substitution for the eliminated offsets
        if n_s:
            residual_l -= np.bincount(lid, weights=offsets_s[sid], minlength=n_l)
        offsets_l = w * residual_l
        self.coef_model_ = dense[1:1 + n_fm]
        self.coef_dataset_ = dense[1 + n_fm:1 + n_fm + n_fd]
        self.coef_pair_ = dense[1 + n_fm + n_fd:]
        self.intercept_ = float(dense[0] - mean_m @ self.coef_model_
                                - mean_d @ self.coef_dataset_ - mean_p @ self.coef_pair_)
        offsets = {large: offsets_l, small: offsets_s}
        self.model_offsets_ = offsets.get("model", np.zeros(0))
        self.dataset_offsets_ = offsets.get("dataset", np.zeros(0))

    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        return self._scorer(graph)(pairs)

    def _scorer(self, graph: TransferGraph) -> Callable[[np.ndarray], np.ndarray]:
        """Encode the graph's nodes once (the costly part: every dataset's metadata); each
        call then only adds up the pair's terms."""
        fm, fd = self._features.transform(graph)
        fitted = len(self.coef_model_) + len(self.coef_dataset_)
        if (fm.shape[1], fd.shape[1]) != (len(self.coef_model_), len(self.coef_dataset_)):
            raise ValueError(f"the features have {fm.shape[1] + fd.shape[1]} columns but the "
                             f"predictor was fitted on {fitted}")
        model_ids, dataset_ids = self._features.ids(graph)
        per_model = fm @ self.coef_model_ + _offsets(self.model_offsets_, model_ids)
        per_dataset = fd @ self.coef_dataset_ + _offsets(self.dataset_offsets_, dataset_ids)
        pair_terms = self._pairs.bind(graph) if self._pairs.width else None

        def score(pairs: np.ndarray) -> np.ndarray:
            out = self.intercept_ + per_model[pairs[:, 0]] + per_dataset[pairs[:, 1]]
            if pair_terms is not None:
                out = out + pair_terms(pairs) @ self.coef_pair_
            return out

        return score

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "identity": self.identity, "text": self.text,
                "use_scores": self.use_scores, "model_features": self.model_features,
                "dataset_features": self.dataset_features}

    def get_state(self) -> dict[str, Any]:
        def tensor(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.array(a, dtype=np.float64))

        return {"intercept": self.intercept_, "coef_model": tensor(self.coef_model_),
                "coef_dataset": tensor(self.coef_dataset_),
                "model_offsets": tensor(self.model_offsets_),
                "dataset_offsets": tensor(self.dataset_offsets_),
                "features": self._features.state(),
                "score_metrics": list(self._pairs.metrics), "coef_pair": tensor(self.coef_pair_)}

    def set_state(self, state: dict[str, Any]) -> None:
        if "features" not in state:
            raise ValueError("the checkpoint's state is not in this graphrec's format (one "
                             "written before node identities became name vocabularies?); "
                             "train the predictor again")
        self._features = self._new_features()
        self._features.load_state(state["features"])
        self.intercept_ = float(state["intercept"])
        for key in ("coef_model", "coef_dataset", "model_offsets", "dataset_offsets"):
            setattr(self, f"{key}_", _as_array(state[key]).astype(np.float64))
        self._pairs = PairScores([str(m) for m in state.get("score_metrics", [])])
        self.coef_pair_ = _as_array(state.get("coef_pair", np.zeros(0))).astype(np.float64)
        if len(self.coef_pair_) != self._pairs.width:
            raise ValueError(f"the state has {len(self.coef_pair_)} score coefficients for "
                             f"{self._pairs.width} metrics")
        for side in ("model", "dataset"):
            n = len(getattr(self, f"{side}_offsets_"))
            if n != self._features.num_ids(side):
                raise ValueError(f"the state has {n} {side} offsets but "
                                 f"{self._features.num_ids(side)} {side} names")
        self._fitted = True


def _offsets(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """`table[ids]`, 0 where an id is -1 (a name `fit` never saw, or no identity)."""
    if len(table) == 0:
        return np.zeros(len(ids))
    return np.where(ids >= 0, table[np.maximum(ids, 0)], 0.0)


#: Below this size (nodes x node features x the copies' stacked hidden units: the work of
#: one layer of the copies, computed naively), stacked CPU training runs on one thread;
#: see `_stacked_threads`.
_SMALL_PRODUCT = 1 << 29


def _stacked_threads(device: torch.device, in_channels: int, stacked_hidden: int,
                     nodes: int) -> int | None:
    """Intra-op threads for stacked training: 1 for a small CPU problem, else unchanged.

    An epoch of the paper's benchmark is a few hundred operations of at most ~10^7
    multiply-adds. Split over threads, each one waits for every thread at its end, so when
    other processes hold the cores an epoch stalls on descheduled threads (measured on 2
    busy cores, before stacking was made cheap: 0.8 s per epoch on 2 threads, 32 ms on one),
    while on idle cores a second thread saves little (~1 ms of ~7 ms per epoch).
    """
    if device.type != "cpu" or in_channels * stacked_hidden * nodes >= _SMALL_PRODUCT:
        return None
    return 1


@contextmanager
def _intra_op_threads(threads: int | None) -> Iterator[None]:
    """Run the block with `threads` intra-op threads (None: as set), then restore."""
    before = torch.get_num_threads()
    if threads is not None and threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


class GATPredictor(_FeaturePredictor):
    """SCG4Trf (Chen et al., 2024): a GAT encoder with skip combination and a pair decoder.

    Node features: models first, then datasets. With the default encoders, model rows are
    `[model features || 0]` and dataset rows `[0 || dataset features]`, so the first linear
    layer acts as a per-type projection; explicit arrays of equal width (the authors' 852-dim
    files) are stacked as they are. With `identity`, a node's name (for sides with the
    default encoders) is an index into one vocabulary, the models' names then the datasets'
    as `fit` saw them, and the encoder adds that index's embedding row to the projection:
    the same model as a one-hot of the name appended to the features, at O(nodes x hidden)
    memory; a name `fit` never saw adds nothing. Edges run model -> dataset, as in the
    authors' code, and at prediction time the graph's own observed edges are used for message
    passing. Training is full batch, Adam, MSE on the observed edges, a fixed number of epochs.
    With `use_scores`, the pair's proxy scores (SCORED edges, see `pair_scores`) enter the
    decoder as pair inputs; a graph without scores trains exactly as before.
    """

    name = "scg4trf"
    skip: ClassVar[bool] = True
    cold_start_reads_graph: ClassVar[bool] = True  # model embeddings pass messages over edges
    _PREDICT_CHUNK: ClassVar[int] = 1 << 18  # pairs decoded at once

    def __init__(self, hidden: int = 64, epochs: int = 300, lr: float = 5e-3, seed: int = 0,
                 device: str = "cpu", progress: bool = False, identity: bool = True,
                 text: bool = False, use_scores: bool | str | Sequence[str] = True,
                 model_features: np.ndarray | None = None,
                 dataset_features: np.ndarray | None = None) -> None:
        super().__init__()
        self.hidden = hidden
        self.text = text
        self.use_scores = use_scores
        self._pairs = PairScores([])
        self.epochs = epochs
        self.lr = lr
        self.seed = seed
        self.device = device
        self.progress = progress
        self.identity = identity
        self.model_features = model_features
        self.dataset_features = dataset_features
        self.train_loss: float | None = None
        self.encoder_: TransferEncoder | None = None
        self.decoder_: PairDecoder | None = None
        self._features = self._new_features()

    def _check_config(self) -> None:
        _check_integer("hidden", self.hidden, 1)
        _check_integer("epochs", self.epochs, 1)
        _check_number("lr", self.lr, 0, strict=True)
        check_use_scores(self.use_scores)
        self._device()

    def _device(self) -> torch.device:
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device {self.device!r} is not a torch device: {exc}") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {self.device!r} asks for a GPU, but torch sees none "
                             "(use device='cpu')")
        return device

    def _num_ids(self) -> int:
        return self._features.num_ids("model") + self._features.num_ids("dataset")

    def _inputs(self, graph: TransferGraph, device: torch.device
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Node features (models, then datasets), model -> dataset edges and node ids.

        Ids: model i of the fitted vocabulary is i, dataset j is (number of model names) + j,
        -1 for no identity; None when the predictor has no identities at all.
        """
        fm, fd = self._features.transform(graph)
        if self._features.both_explicit and fm.shape[1] == fd.shape[1]:
            x = np.concatenate([fm, fd], axis=0)
        else:
            x = np.zeros((len(fm) + len(fd), fm.shape[1] + fd.shape[1]))
            x[:len(fm), :fm.shape[1]] = fm
            x[len(fm):, fm.shape[1]:] = fd
        edges = torch.from_numpy(graph.edges.T.copy())
        edge_index = torch.stack([edges[0], edges[1] + graph.num_models])
        ids = None
        if self._num_ids():
            model_ids, dataset_ids = self._features.ids(graph)
            dataset_ids = np.where(dataset_ids >= 0,
                                   dataset_ids + self._features.num_ids("model"), -1)
            ids = torch.from_numpy(np.concatenate([model_ids, dataset_ids])).to(device)
        return (torch.from_numpy(x).to(device=device, dtype=torch.float32),
                edge_index.to(device), ids)

    def _modules(self, in_channels: int, num_ids: int, device: torch.device
                 ) -> tuple[TransferEncoder, PairDecoder]:
        encoder = TransferEncoder(in_channels, self.hidden, self.hidden, skip=self.skip,
                                  num_ids=num_ids)
        return encoder.to(device), PairDecoder(self.hidden, self._pairs.width).to(device)

    def _fit(self, graph: TransferGraph) -> None:
        device = self._device()
        self._features = self._new_features().fit(graph)
        self._pairs = PairScores(select_metrics(graph, self.use_scores))
        x, edge_index, ids = self._inputs(graph, device)
        pair = self._pair_inputs(graph, device)(graph.edges)
        src = torch.from_numpy(graph.edges[:, 0].copy()).to(device)
        dst = torch.from_numpy(graph.edges[:, 1] + graph.num_models).to(device)
        target = torch.from_numpy(graph.accuracy).to(device=device, dtype=torch.float32)
        encoder, decoder = self._seeded_modules(x.shape[1], device, self.seed)
        optimizer = torch.optim.Adam(chain(encoder.parameters(), decoder.parameters()),
                                     lr=self.lr)
        encoder.train()
        decoder.train()
        bar = tqdm(range(self.epochs), desc=self.name, disable=not self.progress, leave=False)
        loss = torch.zeros(())
        for _ in bar:
            optimizer.zero_grad()
            loss = F.mse_loss(decoder.decode(encoder(x, edge_index, ids), src, dst, pair),
                              target)
            loss.backward()
            optimizer.step()
            if self.progress:
                bar.set_postfix(loss=f"{loss.item():.5f}")
        bar.close()
        self.train_loss = float(loss.item())
        self.encoder_, self.decoder_ = encoder.eval(), decoder.eval()

    def _pair_inputs(self, graph: TransferGraph, device: torch.device
                     ) -> Callable[[np.ndarray], torch.Tensor | None]:
        """The decoder's pair inputs for pairs of `graph` (None when it reads none), with
        the per-graph work of `PairScores.bind` done once."""
        if not self._pairs.width:
            return lambda pairs: None
        features = self._pairs.bind(graph)
        return lambda pairs: torch.from_numpy(features(pairs)).to(device=device,
                                                                   dtype=torch.float32)

    def _seeded_modules(self, in_channels: int, device: torch.device, seed: int
                        ) -> tuple[TransferEncoder, PairDecoder]:
        """Fresh modules drawn from `seed` inside a forked RNG: reproducible, and the
        caller's RNG untouched."""
        forked = []
        if device.type == "cuda":
            forked = [torch.cuda.current_device() if device.index is None else device.index]
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            return self._modules(in_channels, self._num_ids(), device)

    def _snapshots(self, snapshots: Sequence[int] | None) -> list[int]:
        steps = [self.epochs] if snapshots is None else [int(s) for s in snapshots]
        if not steps or any(not 1 <= s <= self.epochs for s in steps):
            raise ValueError(f"snapshots must be epoch counts in 1..{self.epochs} (the "
                             f"predictor's epochs), got {steps}")
        return steps

    def fit_predict_many(self, graphs: Sequence[TransferGraph], *,
                         seeds: Sequence[int] | None = None,
                         snapshots: Sequence[int] | None = None,
                         progress: bool = False) -> np.ndarray:
        """The copies are trained together (`StackedTransferModel`): one pass per epoch over
        a graph of R disjoint copies, each with its own parameters, seed and edges. Copy g
        starts from the parameters `fit` with `seed = seeds[g]` would draw, and its loss is
        its own MSE, so its scores are those of that fit up to float rounding."""
        graphs = list(graphs)
        seeds = self._seeds(seeds, len(graphs))
        steps = self._snapshots(snapshots)
        self._check_config()
        if not graphs:
            return np.empty((len(steps), 0, 0, 0))
        first = graphs[0]
        for graph in graphs:
            _check_graph(graph)
            if graph.models != first.models or graph.datasets != first.datasets:
                raise ValueError("stacked training needs graphs with the same models and "
                                 "datasets, in the same order (masks of one matrix)")
        device = self._device()
        # Every copy has the same nodes, so one fitted encoder serves all (`_inputs` reads it
        # from self; this predictor itself stays unfitted).
        self._features = self._new_features().fit(first)
        self._pairs = PairScores(select_metrics(first, self.use_scores))
        x, _, ids = self._inputs(first, device)
        pair = (torch.from_numpy(self._pairs.dense(first)).to(device=device, dtype=torch.float32)
                if self._pairs.width else None)
        log_counts = edge_log_counts([graph.edges for graph in graphs], first.num_models,
                                     first.num_datasets, device)
        cells = first.num_models * first.num_datasets
        flat_index = torch.from_numpy(np.concatenate([
            graph.edges[:, 0] * first.num_datasets + graph.edges[:, 1] + g * cells
            for g, graph in enumerate(graphs)])).to(device)
        target = torch.from_numpy(np.concatenate([graph.accuracy for graph in graphs])).to(
            device=device, dtype=torch.float32)
        # Per-copy MSE summed: copy g's edges weigh 1 / (its edge count).
        weight = torch.cat([torch.full((len(graph.edges),), 1.0 / len(graph.edges))
                            for graph in graphs]).to(device)
        pairs = [self._seeded_modules(x.shape[1], device, seed) for seed in seeds]
        model = StackedTransferModel([e for e, _ in pairs], [d for _, d in pairs]).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr, fused=True)
        out = np.full((len(steps), len(graphs), first.num_models, first.num_datasets), np.nan)
        wanted: dict[int, list[int]] = {}
        for k, step in enumerate(steps):
            wanted.setdefault(step, []).append(k)
        model.train()
        bar = tqdm(range(1, max(steps) + 1), desc=self.name, disable=not progress, leave=False)
        with _intra_op_threads(_stacked_threads(device, x.shape[1], len(graphs) * self.hidden,
                                                x.shape[0])):
            for epoch in bar:
                optimizer.zero_grad()
                scores = model(x, log_counts, ids, pair).reshape(-1)
                loss = (weight * (scores.index_select(0, flat_index) - target) ** 2).sum()
                loss.backward()
                optimizer.step()
                if epoch in wanted:
                    with torch.no_grad():
                        done = model(x, log_counts, ids, pair)
                    out[wanted[epoch]] = done.cpu().numpy().astype(np.float64)[None]
        bar.close()
        return out

    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        return self._scorer(graph)(pairs)

    def _embed(self, graph: TransferGraph) -> torch.Tensor:
        if not self._fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted: call fit() first")
        assert self.encoder_ is not None
        device = next(self.encoder_.parameters()).device
        x, edge_index, ids = self._inputs(graph, device)
        if x.shape[1] != self.encoder_.in_channels:
            raise ValueError(f"the node features have {x.shape[1]} columns but the predictor "
                             f"was fitted on {self.encoder_.in_channels}")
        with torch.no_grad():
            return self.encoder_(x, edge_index, ids)

    def embeddings(self, graph: TransferGraph) -> tuple[np.ndarray, np.ndarray]:
        """The learnt embeddings z the decoder reads: (models x hidden, datasets x hidden),
        for plots such as the paper's t-SNE (Figure 2)."""
        z = self._embed(graph).cpu().numpy().astype(np.float64)
        return z[:graph.num_models], z[graph.num_models:]

    def _scorer(self, graph: TransferGraph) -> Callable[[np.ndarray], np.ndarray]:
        """Embed every node once; the returned function only decodes pairs."""
        assert self.decoder_ is not None
        z = self._embed(graph)
        device = z.device
        decoder, step, offset = self.decoder_, self._PREDICT_CHUNK, graph.num_models
        pair_inputs = self._pair_inputs(graph, device)

        def decode(pairs: np.ndarray) -> np.ndarray:
            src = torch.from_numpy(pairs[:, 0].copy()).to(device)
            dst = torch.from_numpy(pairs[:, 1] + offset).to(device)
            with torch.no_grad():
                scores = torch.cat([
                    decoder.decode(z, src[k:k + step], dst[k:k + step],
                                   pair_inputs(pairs[k:k + step]))
                    for k in range(0, len(src), step)])
            return scores.cpu().numpy().astype(np.float64)

        return decode

    def get_config(self) -> dict[str, Any]:
        return {"hidden": self.hidden, "epochs": self.epochs, "lr": self.lr, "seed": self.seed,
                "device": self.device, "progress": self.progress, "identity": self.identity,
                "text": self.text, "use_scores": self.use_scores,
                "model_features": self.model_features,
                "dataset_features": self.dataset_features}

    def get_state(self) -> dict[str, Any]:
        assert self.encoder_ is not None and self.decoder_ is not None

        def cpu(module: torch.nn.Module) -> dict[str, torch.Tensor]:
            return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}

        return {"in_channels": self.encoder_.in_channels, "num_ids": self.encoder_.num_ids,
                "encoder": cpu(self.encoder_),
                "decoder": cpu(self.decoder_), "features": self._features.state(),
                "score_metrics": list(self._pairs.metrics), "train_loss": self.train_loss}

    def set_state(self, state: dict[str, Any]) -> None:
        self._features = self._new_features()
        self._features.load_state(state["features"])
        self._pairs = PairScores([str(m) for m in state.get("score_metrics", [])])
        num_ids = int(state.get("num_ids", 0))
        if num_ids != self._num_ids():
            raise ValueError(f"the state's encoder has {num_ids} node ids but its name "
                             f"vocabularies hold {self._num_ids()} names")
        encoder, decoder = self._modules(int(state["in_channels"]), num_ids, self._device())
        encoder.load_state_dict(state["encoder"])
        decoder.load_state_dict(state["decoder"])
        self.encoder_, self.decoder_ = encoder.eval(), decoder.eval()
        loss = state.get("train_loss")
        self.train_loss = None if loss is None else float(loss)
        self._fitted = True


SCG4TrfPredictor = GATPredictor


class G4TrfPredictor(GATPredictor):
    """G4Trf: the same network without the skip combination (embeddings = last GAT layer)."""

    name = "g4trf"
    skip: ClassVar[bool] = False
