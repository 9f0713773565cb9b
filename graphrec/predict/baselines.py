"""Reference points of the paper's Table 2 that learn nothing from metadata.

- `RandomPredictor`: the floor; any method must beat chance.
- `MeanPredictor` ("mean"): popularity, a model's mean known accuracy on every dataset.
- `MatrixCompletionPredictor` ("MC"): low-rank completion of the models x datasets matrix
  from its known entries alone (soft-impute with a truncated randomized SVD), the classic
  collaborative-filtering answer. It has nothing to say about a dataset with no known entry
  (cold start) beyond each model's mean.
- `ProxyScorePredictor` ("proxy"): a proxy score alone (LogME, LEEP, ...), as the paper's
  LogME and LEEP rows rank models.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..checks import check_integer, check_number
from .base import Predictor
from .checkpoint import as_array
from .graph import TransferGraph, positions
from .pair_scores import PairScores, select_metrics

__all__ = ["MatrixCompletionPredictor", "MeanPredictor", "ProxyScorePredictor", "RandomPredictor"]


class RandomPredictor(Predictor):
    """Scores drawn uniformly between the smallest and largest known accuracy.

    Seeded: the same seed and the same pairs, in the same order, give the same scores.
    """

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _fit(self, graph: TransferGraph) -> None:
        self.low_, self.high_ = float(graph.accuracy.min()), float(graph.accuracy.max())

    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        return np.random.default_rng(self.seed).uniform(self.low_, self.high_, len(pairs))

    def get_state(self) -> dict[str, Any]:
        return {"low": self.low_, "high": self.high_}

    def set_state(self, state: dict[str, Any]) -> None:
        self.low_, self.high_ = float(state["low"]), float(state["high"])
        self._fitted = True


class MeanPredictor(Predictor):
    """Popularity: a model's mean observed accuracy, whatever the dataset.

    The floor any learnt predictor must beat; a model with no observed edge (or one `fit`
    never saw) gets the global mean.
    """

    name = "mean"

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

    def get_state(self) -> dict[str, Any]:
        return {"models": list(self.models_), "means": torch.from_numpy(self.means_.copy()),
                "global_mean": self.global_mean_}

    def set_state(self, state: dict[str, Any]) -> None:
        self.models_ = list(state["models"])
        self.means_ = as_array(state["means"]).astype(np.float64)
        self.global_mean_ = float(state["global_mean"])
        self._fitted = True


class MatrixCompletionPredictor(Predictor):
    """Soft-impute (Mazumder, Hastie & Tibshirani, JMLR 2010) on per-model centred accuracies.

    With `R` the known accuracies minus each model's known mean, iterate
    `Z <- S_lambda(P_known(R) + P_unknown(Z))`, where `S_lambda` keeps the top `rank`
    singular triplets (randomized SVD, Halko et al. 2011, via `torch.svd_lowrank`) and
    shrinks their values by `lambda = shrink x` the largest singular value of the first
    filled matrix. A score is `model mean + Z[m, d]`; a dataset (or model) `fit` never saw,
    or one with no known entry, gets no interaction term. The matrix is held densely
    (models x datasets floats), which suits benchmark-sized zoos.
    """

    name = "mc"

    def __init__(self, rank: int = 10, shrink: float = 0.1, max_iter: int = 100,
                 tol: float = 1e-5, seed: int = 0) -> None:
        self.rank = rank
        self.shrink = shrink
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed

    def _check_config(self) -> None:
        check_integer("rank", self.rank, 1)
        check_integer("max_iter", self.max_iter, 1)
        check_number("shrink", self.shrink, 0)
        check_number("tol", self.tol, 0)

    def _fit(self, graph: TransferGraph) -> None:
        i, j, y = graph.edges[:, 0], graph.edges[:, 1], graph.accuracy
        counts = np.bincount(i, minlength=graph.num_models)
        self.global_mean_ = float(y.mean())
        means = np.where(counts > 0, np.bincount(i, weights=y, minlength=graph.num_models)
                         / np.maximum(counts, 1), self.global_mean_)
        known = torch.zeros(graph.num_models, graph.num_datasets, dtype=torch.bool)
        known[i, j] = True
        residual = torch.zeros(graph.num_models, graph.num_datasets, dtype=torch.float64)
        residual[i, j] = torch.from_numpy(y - means[i])
        rank = min(int(self.rank), graph.num_models, graph.num_datasets)
        z = torch.zeros_like(residual)
        u = v = torch.zeros((0, 0), dtype=torch.float64)
        s = torch.zeros(0, dtype=torch.float64)
        lam = None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.seed))
            for step in range(1, int(self.max_iter) + 1):
                filled = torch.where(known, residual, z)
                u, s, v = _top_svd(filled, rank)
                if lam is None:
                    lam = float(self.shrink) * (float(s[0]) if len(s) else 0.0)
                s = torch.clamp(s - lam, min=0.0)
                new = (u * s) @ v.T
                change = float(torch.linalg.norm(new - z)) / max(float(torch.linalg.norm(z)),
                                                                 1e-12)
                z = new
                self.iterations_ = step
                if change < float(self.tol):
                    break
        self.models_, self.datasets_ = list(graph.models), list(graph.datasets)
        self.model_means_ = means
        self.model_factors_ = (u * s).numpy()
        self.dataset_factors_ = v.numpy()

    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        rank = self.model_factors_.shape[1]
        m_rows = positions(graph.models, {n: k for k, n in enumerate(self.models_)})
        d_rows = positions(graph.datasets, {n: k for k, n in enumerate(self.datasets_)})
        mean = np.where(m_rows >= 0, self.model_means_[np.maximum(m_rows, 0)] if len(
            self.model_means_) else 0.0, self.global_mean_)
        uf = np.zeros((graph.num_models, rank))
        vf = np.zeros((graph.num_datasets, rank))
        uf[m_rows >= 0] = self.model_factors_[m_rows[m_rows >= 0]]
        vf[d_rows >= 0] = self.dataset_factors_[d_rows[d_rows >= 0]]
        m, d = pairs[:, 0], pairs[:, 1]
        return mean[m] + np.einsum("pk,pk->p", uf[m], vf[d])

    def get_state(self) -> dict[str, Any]:
        return {"models": list(self.models_), "datasets": list(self.datasets_),
                "model_means": torch.from_numpy(self.model_means_.copy()),
                "global_mean": self.global_mean_,
                "model_factors": torch.from_numpy(self.model_factors_.copy()),
                "dataset_factors": torch.from_numpy(self.dataset_factors_.copy()),
                "iterations": self.iterations_}

    def set_state(self, state: dict[str, Any]) -> None:
        self.models_, self.datasets_ = list(state["models"]), list(state["datasets"])
        self.model_means_ = as_array(state["model_means"]).astype(np.float64)
        self.global_mean_ = float(state["global_mean"])
        self.model_factors_ = as_array(state["model_factors"]).astype(np.float64)
        self.dataset_factors_ = as_array(state["dataset_factors"]).astype(np.float64)
        self.iterations_ = int(state["iterations"])
        self._fitted = True


def _top_svd(matrix: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor,
                                                         torch.Tensor]:
    """The top `rank` singular triplets: exact for small matrices, randomized for large."""
    if min(matrix.shape) <= 2 * rank or matrix.numel() <= 1 << 16:
        u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
        return u[:, :rank], s[:rank], vh[:rank].T
    return torch.svd_lowrank(matrix, q=rank, niter=4)


class ProxyScorePredictor(Predictor):
    """Rank each dataset's models by their proxy score, learning nothing from accuracies.

    The score is standardised within its dataset (`pair_scores`), averaged over `metrics`
    (default: every metric the fit graph holds), and mapped monotonically into (0, 1)
    around the mean known accuracy: `sigmoid(logit(mean) + z / 2)`. Only the order within a
    dataset carries information, which is what the benchmark's per-dataset correlations
    read. A pair without a score gets the mean.
    """

    name = "proxy"

    def __init__(self, metrics: str | list[str] | None = None) -> None:
        self.metrics = metrics

    def _fit(self, graph: TransferGraph) -> None:
        chosen = select_metrics(graph, True if self.metrics is None else self.metrics)
        if not chosen:
            raise ValueError("the graph has no proxy scores (SCORED edges) to rank by; "
                             "compute them with `graphrec score` or ingest a score matrix")
        self._pairs = PairScores(chosen)
        mean = float(np.clip(graph.accuracy.mean(), 1e-3, 1 - 1e-3))
        self.centre_ = math.log(mean / (1 - mean))

    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        z = self._pairs.transform(graph, pairs).mean(axis=1)
        return 1.0 / (1.0 + np.exp(-(self.centre_ + 0.5 * z)))

    def get_state(self) -> dict[str, Any]:
        return {"metrics": self.scores_used, "centre": self.centre_}

    def set_state(self, state: dict[str, Any]) -> None:
        self._pairs = PairScores([str(m) for m in state["metrics"]])
        self.centre_ = float(state["centre"])
        self._fitted = True
