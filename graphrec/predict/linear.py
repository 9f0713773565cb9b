"""`linear`: ridge regression on [model features || dataset features] plus per-name offsets
(the paper's LR baseline, with node identities and proxy scores)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from ..checks import check_number
from .checkpoint import as_array
from .graph import TransferGraph
from .node_features import FeaturePredictor
from .pair_scores import PairScores, check_use_scores, select_metrics
from .sparse import group_sum, lookup_offsets, shared_gram

__all__ = ["LinearPredictor"]


class LinearPredictor(FeaturePredictor):
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
        self.alpha = alpha
        self.identity = identity
        self.text = text
        self.use_scores = use_scores
        self.model_features = model_features
        self.dataset_features = dataset_features

    def _check_config(self) -> None:
        check_number("alpha", self.alpha, 0)
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
                per_l += group_sum(lid[lo:hi], x, n_l)
            if n_s:
                per_s += group_sum(sid[lo:hi], x, n_s)
        count_l = np.bincount(lid, minlength=n_l)[:n_l].astype(np.float64)
        y_l = np.bincount(lid, weights=y, minlength=n_l)[:n_l]
        # The L block of the normal equations is diag(count + alpha); a name with no edge
        # (and alpha = 0) has an all-zero column: its offset is 0.
        w = np.divide(1.0, count_l + alpha, out=np.zeros(n_l), where=count_l + alpha > 0)
        gram -= per_l.T @ (per_l * w[:, None])
        rhs -= per_l.T @ (w * y_l)
        if n_s:
            for lo, hi in blocks:
                per_s -= group_sum(sid[lo:hi], per_l[lid[lo:hi]] * w[lid[lo:hi], None], n_s)
            count_s = np.bincount(sid, minlength=n_s).astype(np.float64)
            corner = np.diag(count_s) - shared_gram(sid, lid, w, n_s)
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
        per_model = fm @ self.coef_model_ + lookup_offsets(self.model_offsets_, model_ids)
        per_dataset = fd @ self.coef_dataset_ + lookup_offsets(self.dataset_offsets_, dataset_ids)
        pair_terms = self._pairs.bind(graph) if self._pairs.width else None

        def score(pairs: np.ndarray) -> np.ndarray:
            out = self.intercept_ + per_model[pairs[:, 0]] + per_dataset[pairs[:, 1]]
            if pair_terms is not None:
                out = out + pair_terms(pairs) @ self.coef_pair_
            return out

        return score

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
            setattr(self, f"{key}_", as_array(state[key]).astype(np.float64))
        self._pairs = PairScores([str(m) for m in state.get("score_metrics", [])])
        self.coef_pair_ = as_array(state.get("coef_pair", np.zeros(0))).astype(np.float64)
        if len(self.coef_pair_) != self._pairs.width:
            raise ValueError(f"the state has {len(self.coef_pair_)} score coefficients for "
                             f"{self._pairs.width} metrics")
        for side in ("model", "dataset"):
            n = len(getattr(self, f"{side}_offsets_"))
            if n != self._features.num_ids(side):
                raise ValueError(f"the state has {n} {side} offsets but "
                                 f"{self._features.num_ids(side)} {side} names")
        self._fitted = True
