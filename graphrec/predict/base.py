"""`Predictor`: what every predictor of missing transferability edges shares.

Every predictor has scikit-learn's shape: configure in `__init__` (which only stores its
arguments), learn in `fit`, answer in `predict`; `get_params` / `set_params` follow
scikit-learn's contract, so `sklearn.base.clone` makes an unfitted twin. `predict` takes the
graph again because at prediction time it may hold nodes `fit` never saw (a cold-start
dataset with metadata and no edges); those are encoded with the encoders fitted in `fit`.
`save`/`load` write one `torch.save` file that `load` reads back with `weights_only=True`,
so a checkpoint cannot run code. A checkpoint records its predictor by registry name
(`Predictor.name`: `hla`, `scg4trf`, ...), never by module or class path, so moving a class
between modules leaves old checkpoints loadable.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
from tqdm.auto import tqdm

from ..version import __version__
from . import checkpoint
from .graph import TransferGraph
from .pair_scores import PairScores

__all__ = ["Predictor", "check_fit_graph", "check_pairs"]


def check_fit_graph(graph: TransferGraph) -> None:
    """What every `fit` needs: at least one observed edge, with a usable accuracy."""
    if len(graph.edges) == 0:
        raise ValueError(f"the graph has no observed edges ({graph.num_models} models, "
                         f"{graph.num_datasets} datasets): a predictor learns from known "
                         "accuracies, so give it some")
    if not np.all(np.isfinite(graph.accuracy)):
        bad = int(np.count_nonzero(~np.isfinite(graph.accuracy)))
        raise ValueError(f"{bad} observed accuracies are NaN or infinite; drop those edges "
                         "before fitting")


def check_pairs(graph: TransferGraph, pairs: Any) -> np.ndarray:
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


class Predictor(ABC):
    """Predicts the accuracy of (model, dataset) pairs from a `TransferGraph`.

    Subclasses implement `_fit` and `_predict`; the public methods check inputs once, here,
    so that every predictor fails the same way on the same bad input. A subclass's
    `__init__` stores its arguments under their own names and does nothing else: checking
    them is `_check_config`'s job, called by `fit` (scikit-learn's rule, which `clone` and
    `set_params` rely on).
    """

    #: The registry name (`graphrec train --model NAME`), recorded in checkpoints.
    name: ClassVar[str]
    #: Whether scoring a dataset with no edges reads other datasets' edges from the graph
    #: it is given (the GATs' message passing). If not, a cold start scores the new dataset
    #: in a graph of the models and that dataset alone (`graphrec.predict.cold`).
    cold_start_reads_graph: ClassVar[bool] = False
    _fitted: bool = False  # set by fit / set_state; a class default, so __init__ stays bare

    def fit(self, graph: TransferGraph) -> Self:
        """Learn from the observed edges (and node metadata) of `graph`."""
        self._fitted = False  # a failed refit must not leave half-replaced state usable
        check_fit_graph(graph)
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
            checked = check_pairs(graph, pairs)
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
        for g, graph in enumerate(tqdm(graphs, desc=self.name, disable=not progress,
                                       leave=False)):
            twin = self.twin(seeds[g])
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

    # -- parameters (scikit-learn's contract) -----------------------------------------------

    @classmethod
    def param_names(cls) -> list[str]:
        """The constructor's arguments, in order: the predictor's parameters."""
        if cls.__init__ is object.__init__:
            return []
        names = []
        for p in inspect.signature(cls.__init__).parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ takes *{p.name}: a predictor names "
                                "each of its parameters (scikit-learn's rule)")
            names.append(p.name)
        return names

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters by name, as given to (or set since) the constructor; with `deep`,
        also those of parameters that have parameters themselves, as `name__subname`."""
        out: dict[str, Any] = {}
        for name in self.param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params: Any) -> Self:
        """Set parameters by name (`name__subname` for a parameter's own); returns self.

        A name the predictor does not take is a ValueError naming the ones it does. Like
        scikit-learn's, it does not refit: call `fit` again."""
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, sub, rest = key.partition("__")
            if name not in valid:
                names = self.param_names()
                takes = f"its parameters are {', '.join(names)}" if names else "it takes none"
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; {takes}")
            if sub:
                nested.setdefault(name, {})[rest] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def twin(self, seed: int | None = None) -> Self:
        """An unfitted copy of this configuration; `seed` replaces its own where the
        predictor takes one (a benchmark's repetitions, the calibration's folds)."""
        config = self.get_config()
        if seed is not None and "seed" in config:
            config["seed"] = int(seed)
        return type(self)(**config)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as a checkpoint and the Predictor node record them:
        `get_params(deep=False)`, so `type(self)(**get_config())` is an unfitted twin."""
        return self.get_params(deep=False)

    # -- persistence ------------------------------------------------------------------------

    @abstractmethod
    def get_state(self) -> dict[str, Any]:
        """What `fit` learnt, as tensors and plain Python values."""

    @abstractmethod
    def set_state(self, state: dict[str, Any]) -> None:
        """Become the fitted predictor that `get_state` described."""

    def save(self, path: str | Path) -> None:
        """One file holding the name, config and learnt state (arrays stored as tensors)."""
        if not self._fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted: nothing to save")
        config = {k: torch.tensor(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v
                  for k, v in self.get_config().items()}
        torch.save({"predictor": self.name, "config": config,
                    "state": checkpoint.pack(self.get_state()),
                    "graphrec_version": __version__}, Path(path))

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> Predictor:
        """The predictor saved at `path`, as the subclass of `cls` it was saved from.

        The class is the one whose `name` the checkpoint records, among `cls` and its
        subclasses that are imported (`graphrec.predict.registry.load_checkpoint` imports
        every built-in one first). `device` overrides the saved one (a GPU-trained model
        loaded on a CPU machine). Every defect of the file (truncated, another kind of file,
        a pickle that would run code, a state this graphrec cannot read) is a ValueError
        saying which; loading never runs code from the file (`weights_only=True`).
        """
        data = checkpoint.read(Path(path))
        if not isinstance(data, dict) or "predictor" not in data:
            raise ValueError(f"{path}: not a graphrec predictor checkpoint")
        name = data["predictor"]
        target = _named_subclasses(cls).get(name) if isinstance(name, str) else None
        if target is None:
            known = _named_subclasses(Predictor)
            if isinstance(name, str) and name in known:
                raise ValueError(f"{path} holds a {known[name].__name__}, not a {cls.__name__}")
            raise ValueError(f"{path}: unknown predictor {name!r} (this graphrec knows "
                             f"{', '.join(known)})")
        try:
            config = {k: checkpoint.as_array(v) for k, v in data["config"].items()}
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

        args = ", ".join(f"{k}={show(v)}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"


def _named_subclasses(root: type[Predictor]) -> dict[str, type[Predictor]]:
    """`root` and its imported subclasses by the `name` each declares itself (an inherited
    name is its parent's), the first declared (nearest `root`) winning a repeated name."""
    found: dict[str, type[Predictor]] = {}
    queue: deque[type[Predictor]] = deque([root])
    seen: set[type] = set()
    while queue:
        cls = queue.popleft()
        if cls in seen:
            continue
        seen.add(cls)
        own = vars(cls).get("name")
        if isinstance(own, str):
            found.setdefault(own, cls)
        queue.extend(cls.__subclasses__())
    return found
