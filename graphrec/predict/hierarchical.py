"""`hla`, HLA: hierarchical logit with attribute smoothing (one of `auto`'s candidates), a
logit model of effects whose residuals are smoothed over datasets sharing attributes.

Why not the GAT alone: SCG4Trf's decoder adds a model term to a dataset term, so it ranks
the models the same way for every dataset; and the paper's data is noisy in a structured
way (a 2-class task with 10 samples per class is mostly noise). This model keeps what the
graph knows and adds what the GAT cannot express (benchmarked in `graphrec benchmark`):

    logit(accuracy[i, j]) = mu + a_i + b_j + x_j . beta_i + s_ij . gamma + S_ij

- `mu + a_i + b_j`: a model effect and a dataset effect, on the logit scale (accuracies
  near 1 are not squashed). A dataset with no known entry gets `b_j` from a ridge of the
  known datasets' offsets on metadata.
- `x_j . beta_i`: how each model's accuracy moves with the dataset's metadata (domain,
  number of classes, samples per class, training size): a per-model ridge, so models can
  rank differently on different datasets.
- `s_ij . gamma`: the pair's proxy scores (SCORED edges: LogME, LEEP, ...), each
  standardised within its dataset (`pair_scores`), with one weight per metric (ridge). The
  only term that sees pair-level evidence for a dataset with no known entry; absent when
  the graph holds no scores (`use_scores`).
- `S_ij`: message passing over the dataset graph through shared attributes. Each dataset
  links to its `neighbours` most similar ones (same domain, label-set Jaccard similarity to
  the power `sharpness`); model i's leftover errors on those neighbours, weighted by
  similarity, are averaged into `S_ij`.
- Heteroscedastic weights: a column's noise is predicted from its metadata (log residual
  variance, ridge) and every fit step weighs a dataset by the inverse of that noise.

The terms are fitted by block coordinate descent (`iterations` rounds, each in closed
form). Memory is O(edges + smoothing links + datasets x neighbours + models x metadata^2);
nothing is dense in models x datasets, and scoring works through pairs in chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..checks import check_between, check_integer, check_number
from .base import Predictor
from .checkpoint import as_array
from .features import NodeEncoder, TextEmbedder, category_of, items_of
from .graph import PairLookup, TransferGraph, positions
from .pair_scores import PairScores, check_use_scores, select_metrics

__all__ = ["HierarchicalLogitPredictor", "HierarchicalPredictor"]

_CHUNK = 1 << 16
_BLOCK = 1 << 22  # entries of one block of smoothing columns (models x datasets)


def _metadata_encoder() -> NodeEncoder:
    return NodeEncoder(categorical=("domain",),
                       numeric=("num_classes", "samples_per_class", "train_size"),
                       log_scale=("num_classes", "samples_per_class", "train_size"))


def _ridge(x: np.ndarray, y: np.ndarray, lam: float, w: np.ndarray | None = None, *,
           intercept: bool = True) -> np.ndarray:
    """Weighted ridge; with `intercept`, an unpenalised one as the last coefficient
    (without, the effects around the term absorb the level)."""
    a = _with_one(x) if intercept else x
    w = np.ones(len(x)) if w is None else w
    penalty = np.full(a.shape[1], lam)
    if intercept:
        penalty[-1] = 1e-9
    return np.linalg.solve(a.T @ (a * w[:, None]) + np.diag(penalty), a.T @ (w * y))


def _with_one(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.ones((len(x), 1))], axis=1)


class _Attributes:
    """Domains and label sets of datasets, and the similarity-ranked neighbours of one set
    of datasets among another."""

    def __init__(self, props: Sequence[dict[str, Any]], text: bool = False) -> None:
        self.domains = [category_of(p.get("domain")) for p in props]
        # With `text`, label sets compare by the cosine of their mean label embedding.
        self.embeddings: np.ndarray | None = None
        if text:
            rows = TextEmbedder.dataset_rows(props)[:, TextEmbedder.dim:]
            norm = np.linalg.norm(rows, axis=1, keepdims=True)
            self.embeddings = np.divide(rows, norm, out=np.zeros_like(rows), where=norm > 0)
        vocab: dict[str, int] = {}
        self.labels = [sorted({vocab.setdefault(x, len(vocab)) for x in items_of(p.get("labels"))})
                       for p in props]
        self.vocab = vocab
        self._own_hot: np.ndarray | None = None
        self._by_domain: dict[str | None, np.ndarray] | None = None

    def state(self) -> dict[str, Any]:
        """Domains and label sets as arrays, saved with the predictor so that loading it
        does not parse every training dataset's labels again (text embeddings excepted)."""
        ptr = np.r_[0, np.cumsum([len(x) for x in self.labels])].astype(np.int64)
        ids = np.array([i for x in self.labels for i in x], dtype=np.int64)
        return {"label_domains": list(self.domains), "label_vocab": list(self.vocab),
                "label_ptr": ptr, "label_ids": ids}

    @classmethod
    def from_state(cls, st: dict[str, Any], text: bool) -> _Attributes:
        """The training datasets' attributes: from `state()`'s arrays when the checkpoint
        has them (and no text embeddings are needed), else from the saved properties."""
        if text or "label_ids" not in st:
            return cls(st["dataset_props"], text)
        out = cls.__new__(cls)
        out.domains = list(st["label_domains"])
        out.embeddings = None
        out.vocab = {str(n): k for k, n in enumerate(st["label_vocab"])}
        ptr, ids = np.asarray(st["label_ptr"]), np.asarray(st["label_ids"])
        out.labels = [ids[ptr[r]:ptr[r + 1]].tolist() for r in range(len(ptr) - 1)]
        out._own_hot = None
        out._by_domain = None
        return out

    def by_domain(self) -> dict[str | None, np.ndarray]:
        """Row indices per domain (kept, like `own_multi_hot`)."""
        if self._by_domain is None:
            rows: dict[str | None, list[int]] = {}
            for r, dom in enumerate(self.domains):
                rows.setdefault(dom, []).append(r)
            self._by_domain = {d: np.array(v, dtype=np.int64) for d, v in rows.items()}
        return self._by_domain

    def own_multi_hot(self) -> np.ndarray:
        """`multi_hot(self.vocab)` without the extra column, kept: as the reference set of
        every search, it is asked for again and again."""
        if self._own_hot is None:
            self._own_hot = self.multi_hot(self.vocab)[:, :-1]
        return self._own_hot

    def multi_hot(self, vocab: dict[str, int]) -> np.ndarray:
        """0/1 rows over `vocab` (another set's label ids), one extra column for the rest."""
        names = {v: k for k, v in self.vocab.items()}
        out = np.zeros((len(self.labels), len(vocab) + 1), dtype=np.float32)
        for r, items in enumerate(self.labels):
            for item in items:
                out[r, vocab.get(names[item], len(vocab))] = 1.0
        return out


def _neighbours(query: _Attributes, ref: _Attributes, k: int, sharpness: float,
                same: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(index, weight), each (len(query), k): the k reference datasets most similar to each
    query dataset, similarity = [same domain] x Jaccard(labels)^sharpness; weight 0 pads.
    `same[q]` is the reference index of query q itself (excluded), or -1.

    Only datasets of one domain can be similar, so the search runs domain by domain, in
    chunks of query rows: O(sum over domains of (query x reference) x labels) time and
    O(chunk x reference) memory.
    """
    k = max(0, min(k, len(ref.labels)))
    index = np.zeros((len(query.labels), k), dtype=np.int64)
    weight = np.zeros((len(query.labels), k))
    if k == 0 or (not ref.vocab and ref.embeddings is None):
        return index, weight
    vocab = ref.vocab
    lq = query.multi_hot(vocab)[:, :-1]  # labels the reference never has cannot match
    lr = ref.own_multi_hot()
    size_q = np.array([len(x) for x in query.labels], dtype=np.float32)
    size_r = lr.sum(axis=1)
    by_domain = ref.by_domain()
    queries: dict[str | None, list[int]] = {}
    for q, dom in enumerate(query.domains):
        queries.setdefault(dom, []).append(q)
    for dom, rows in queries.items():
        cand = by_domain.get(dom, np.zeros(0, dtype=np.int64))
        if len(cand) == 0:
            continue
        kk = min(k, len(cand))
        rows_arr = np.array(rows, dtype=np.int64)
        step = max(1, (_CHUNK * 16) // len(cand))
        for lo in range(0, len(rows_arr), step):
            qs = rows_arr[lo:lo + step]
            if query.embeddings is not None and ref.embeddings is not None:
                base = np.clip(query.embeddings[qs] @ ref.embeddings[cand].T, 0.0, 1.0)
            else:
                inter = lq[qs] @ lr[cand].T
                union = size_q[qs, None] + size_r[None, cand] - inter
                base = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
            sim = np.power(base, np.float32(sharpness))
            if same is not None:
                hit = same[qs][:, None] == cand[None, :]
                sim[hit] = 0.0
            top = (np.argpartition(-sim, kk - 1, axis=1)[:, :kk] if kk < len(cand)
                   else np.broadcast_to(np.arange(len(cand)), sim.shape))
            index[qs, :kk] = cand[top]
            weight[qs, :kk] = np.take_along_axis(sim, top, axis=1)
    return index, weight


class HierarchicalLogitPredictor(Predictor):
    """The model of this module's docstring; `fit` on known edges, `predict` any pair.

    `text=True` compares label sets by the cosine of their mean sentence embedding (the
    `graphrec[text]` extra) instead of their overlap, so that "cat, dog" and "kitten, puppy"
    are neighbours. `sharpness` defaults to 1 for label overlap and 16 for the cosine.

    The defaults were chosen on validation splits of the paper's data drawn with other seeds
    than the benchmark's (`seeded_mask(100..109)`), over interaction_alpha in {10, 30, 100},
    sharpness in {1, 2, 4} (overlap) or {4, 8, 16} (cosine) and smoothing_prior in
    {0.5, 1, 2}; the benchmark's own masks were not used to pick them.
    """

    name = "hla"

    def __init__(self, interaction_alpha: float = 30.0, neighbours: int = 32,
                 sharpness: float | None = None, smoothing_prior: float = 0.5,
                 iterations: int = 15, clip: float = 0.03, noise_weights: bool = True,
                 text: bool = False, use_scores: bool | str | Sequence[str] = True,
                 score_alpha: float = 1.0, seed: int = 0) -> None:
        self.interaction_alpha = interaction_alpha
        self.neighbours = neighbours
        self.sharpness = sharpness
        self.smoothing_prior = smoothing_prior
        self.iterations = iterations
        self.clip = clip
        self.noise_weights = noise_weights
        self.text = text
        self.use_scores = use_scores
        self.score_alpha = score_alpha
        self.seed = seed  # deterministic: kept so that benchmarks can pass one

    def _check_config(self) -> None:
        check_integer("neighbours", self.neighbours, 0)
        check_integer("iterations", self.iterations, 1)
        for what, value in (("interaction_alpha", self.interaction_alpha),
                            ("sharpness", self._sharpness()),
                            ("smoothing_prior", self.smoothing_prior),
                            ("score_alpha", self.score_alpha)):
            check_number(what, value, 0, strict=True)
        check_use_scores(self.use_scores)
        check_between("clip", self.clip, 0, 0.5)

    def _sharpness(self) -> float:
        if self.sharpness is None:
            return 16.0 if self.text else 1.0
        return self.sharpness

    # -- fitting ----------------------------------------------------------------------------

    def _fit(self, graph: TransferGraph) -> None:
        self._fixed = None
        encoder = _metadata_encoder().fit(graph.dataset_props)
        raw = encoder.transform(graph.dataset_props).astype(np.float64)
        # Every column on one scale (one-hot columns too), so one ridge penalty fits all.
        centre, scale = raw.mean(axis=0), raw.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        x = (raw - centre) / scale
        x1 = _with_one(x)
        m, d = graph.num_models, graph.num_datasets
        i, j = graph.edges[:, 0], graph.edges[:, 1]
        eps = float(self.clip)
        y = np.clip(graph.accuracy, eps, 1 - eps)
        t = np.log(y / (1 - y))
        metrics = select_metrics(graph, self.use_scores)
        ps = PairScores(metrics).transform(graph, graph.edges)
        gamma, q_e = np.zeros(len(metrics)), np.zeros(len(t))
        attrs = _Attributes(graph.dataset_props, bool(self.text))
        nb_index, nb_weight = _neighbours(attrs, attrs, int(self.neighbours),
                                          float(self._sharpness()), np.arange(d))
        links = _links(i, j, nb_index, nb_weight, PairLookup(i, j, d))
        n_j = np.bincount(j, minlength=d).astype(np.float64)
        has = n_j > 0
        mu = float(t.mean())
        a, b, w = np.zeros(m), np.zeros(d), np.ones(d)
        beta = np.zeros((m, x1.shape[1]))
        g_e, s_e = np.zeros(len(t)), np.zeros(len(t))
        beta_b = np.zeros(x1.shape[1])
        for it in range(int(self.iterations)):
            we = w[j]
            a = _safe_div(np.bincount(i, weights=we * (t - mu - b[j] - g_e - q_e - s_e),
                                      minlength=m), np.bincount(i, weights=we, minlength=m))
            b = _safe_div(np.bincount(j, weights=t - mu - a[i] - g_e - q_e - s_e, minlength=d),
                          n_j)
            if it > 0 and has.any():
                beta_b = _ridge(x[has], b[has], 1.0, w[has])
                b = np.where(has, b, x1 @ beta_b)
            r = t - mu - a[i] - b[j]
            if it > 0 and self.noise_weights:
                w = self._noise_weights(x, x1, j, r - g_e - q_e - s_e, n_j, w)
            beta = self._interactions(x1, i, j, r - q_e - s_e, w, m)
            g_e = np.einsum("ef,ef->e", x1[j], beta[i])
            if len(metrics):
                gamma = _ridge(ps, r - g_e - s_e, float(self.score_alpha), w[j],
                               intercept=False)
                q_e = ps @ gamma
            s_e = _smooth(links, r - g_e - q_e, w, j, len(t), float(self.smoothing_prior))
        self._state = {
            "encoder": encoder.state_dict(), "centre": centre, "scale": scale, "mu": mu,
            "a": a, "b": b, "has": has, "w": w,
            "beta": beta, "beta_b": beta_b, "models": list(graph.models),
            "datasets": list(graph.datasets), "edges": graph.edges.copy(),
            "residual": r - g_e - q_e, "score_metrics": metrics, "gamma": gamma,
            **attrs.state(),
        }
        if self.text:  # the label embeddings are computed from the names again on load
            self._state["dataset_props"] = [
                {"domain": p.get("domain"), "labels": p.get("labels")}
                for p in graph.dataset_props]

    def _noise_weights(self, x: np.ndarray, x1: np.ndarray, j: np.ndarray,
                       resid: np.ndarray, n_j: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Inverse predicted noise per dataset, mean 1 (unchanged if too few columns)."""
        var = np.bincount(j, weights=resid ** 2, minlength=len(n_j)) / np.maximum(n_j - 1, 1)
        ok = n_j >= 3
        if ok.sum() < x1.shape[1] + 2:
            return w
        coef = _ridge(x[ok], np.log(var[ok] + 1e-6), 1.0)
        new = np.exp(-np.clip(x1 @ coef, -30, 30))
        return new / new.mean()

    def _interactions(self, x1: np.ndarray, i: np.ndarray, j: np.ndarray, target: np.ndarray,
                      w: np.ndarray, m: int) -> np.ndarray:
        """Per-model weighted ridge of `target` on dataset metadata, solved as one batch."""
        f = x1.shape[1]
        gram = torch.zeros((m, f * f), dtype=torch.float64)
        rhs = torch.zeros((m, f), dtype=torch.float64)
        for lo in range(0, len(i), _CHUNK):
            sl = slice(lo, lo + _CHUNK)
            rows = x1[j[sl]] * w[j[sl], None]
            index = torch.from_numpy(np.ascontiguousarray(i[sl]))
            outer = (rows[:, :, None] * x1[j[sl], None, :]).reshape(len(rows), f * f)
            gram.index_add_(0, index, torch.from_numpy(outer))
            rhs.index_add_(0, index, torch.from_numpy(rows * target[sl, None]))
        gram, rhs = gram.numpy().reshape(m, f, f), rhs.numpy()
        penalty = np.full(f, float(self.interaction_alpha))
        penalty[-1] = 1e-9
        gram[:, np.arange(f), np.arange(f)] += penalty
        return np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]

    # -- scoring ----------------------------------------------------------------------------

    def _scorer(self, graph: TransferGraph) -> Callable[[np.ndarray], np.ndarray]:
        st = self._state
        encoder = NodeEncoder.from_state(st["encoder"])
        raw = encoder.transform(graph.dataset_props).astype(np.float64)
        x1 = _with_one((raw - st["centre"]) / st["scale"])
        fixed = self._fitted_parts()
        m_rows = positions(graph.models, fixed["model_index"])
        d_rows = positions(graph.datasets, fixed["dataset_index"])
        a = np.where(m_rows >= 0, st["a"][np.maximum(m_rows, 0)], st["a"].mean())
        beta = np.where((m_rows >= 0)[:, None], st["beta"][np.maximum(m_rows, 0)],
                        st["beta"].mean(axis=0))
        seen = (d_rows >= 0) & st["has"][np.maximum(d_rows, 0)]
        b = np.where(seen, st["b"][np.maximum(d_rows, 0)], x1 @ st["beta_b"])
        nb_index, nb_weight = _neighbours(_Attributes(graph.dataset_props, bool(self.text)),
                                          fixed["reference"], int(self.neighbours),
                                          float(self._sharpness()), d_rows)
        smoother = fixed["smoother"]
        mu = st["mu"]
        pair_scores = PairScores([str(k) for k in st.get("score_metrics", [])])
        pair_features = pair_scores.bind(graph)
        gamma = np.asarray(st.get("gamma", np.zeros(0)), dtype=np.float64)
        models_fit = len(st["models"])
        per_block = max(1, _BLOCK // max(1, models_fit))

        def score(pairs: np.ndarray) -> np.ndarray:
            p, q = pairs[:, 0], pairs[:, 1]
            s = np.zeros(len(pairs))
            # Smoothing, a block of datasets at a time: each dataset's column of S for every
            # fitted model, from its neighbours' known edges (no per-pair lookups).
            targets, where = np.unique(q, return_inverse=True)
            known_model = m_rows[p] >= 0
            for lo in range(0, len(targets), per_block):
                block = targets[lo:lo + per_block]
                rows = (where >= lo) & (where < lo + len(block)) & known_model
                if rows.any():
                    table = smoother.columns(nb_index[block], nb_weight[block])
                    s[rows] = table[m_rows[p[rows]], where[rows] - lo]
            out = np.empty(len(pairs))
            for lo in range(0, len(pairs), _CHUNK):
                sl = slice(lo, lo + _CHUNK)
                logit = (mu + a[p[sl]] + b[q[sl]] + np.einsum("ef,ef->e", x1[q[sl]], beta[p[sl]])
                         + s[sl])
                if pair_scores.width:
                    logit += pair_features(pairs[sl]) @ gamma
                out[sl] = 1.0 / (1.0 + np.exp(-logit))
            return out

        return score

    def _fitted_parts(self) -> dict[str, Any]:
        """What every scorer of this fitted state shares (name indexes, the training
        datasets' attributes, the smoothing table), built once: a long-lived process
        scoring one new dataset at a time (`graphrec serve`) pays for it once."""
        if self._fixed is None:
            st = self._state
            self._fixed = {
                "model_index": {n: k for k, n in enumerate(st["models"])},
                "dataset_index": {n: k for k, n in enumerate(st["datasets"])},
                "reference": _Attributes.from_state(st, bool(self.text)),
                "smoother": _Smoother(st["edges"], st["residual"], st["w"], len(st["models"]),
                                      len(st["datasets"]), float(self.smoothing_prior)),
            }
        return self._fixed

    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        return self._scorer(graph)(pairs)

    @property
    def scores_used(self) -> list[str]:
        state = self._state if self._fitted else {}
        return [str(m) for m in state.get("score_metrics", [])]

    # -- persistence ------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {k: torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray)
                else v for k, v in self._state.items()}

    def set_state(self, state: dict[str, Any]) -> None:
        self._fixed = None
        self._state = {k: as_array(v) for k, v in state.items()}
        self._state["has"] = np.asarray(self._state["has"], dtype=bool)
        self._fitted = True


HierarchicalPredictor = HierarchicalLogitPredictor  # the class's name before HLA was spelt out


class _Smoother:
    """S for whole dataset columns: each query dataset's neighbours' known edges, found
    through the fit's edges grouped by dataset (CSR), summed per fitted model. Work is
    O(query datasets x neighbours x known edges per dataset), never a per-pair search."""

    def __init__(self, edges: np.ndarray, resid: np.ndarray, w: np.ndarray, num_models: int,
                 num_datasets: int, prior: float) -> None:
        order = np.argsort(edges[:, 1], kind="stable")
        self.model = edges[order, 0]
        self.value = resid[order]
        self.ptr = np.r_[0, np.cumsum(np.bincount(edges[:, 1], minlength=num_datasets))]
        self.w = w
        self.num_models = num_models
        self.prior = prior

    def columns(self, nb_index: np.ndarray, nb_weight: np.ndarray) -> np.ndarray:
        """(models, len(nb_index)): S of every fitted model for each query dataset."""
        n_query = len(nb_index)
        weight = (nb_weight * self.w[nb_index]).ravel()
        start = self.ptr[nb_index].ravel()
        count = np.where(weight > 0, self.ptr[nb_index + 1].ravel() - start, 0)
        total = int(count.sum())
        out_shape = (self.num_models, n_query)
        if total == 0:
            return np.zeros(out_shape)
        column = np.repeat(np.repeat(np.arange(n_query), nb_index.shape[1]), count)
        offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        edge = np.repeat(start, count) + offset
        link_weight = np.repeat(weight, count)
        key = self.model[edge] * n_query + column
        size = self.num_models * n_query
        num = np.bincount(key, weights=link_weight * self.value[edge], minlength=size)
        den = np.bincount(key, weights=link_weight, minlength=size)
        return (num / (self.prior + den)).reshape(out_shape)


def _links(i: np.ndarray, j: np.ndarray, nb_index: np.ndarray, nb_weight: np.ndarray,
           lookup: PairLookup) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which known edges smooth which: (edge e, neighbour edge e', similarity) for every
    e = (i, j) and known e' = (i, j') with j' among j's neighbours. Found once per fit
    (the edges do not change between rounds), kept sparse: O(links) memory."""
    src, dst, sim = [], [], []
    step = max(1, _CHUNK // max(1, nb_index.shape[1]))
    for lo in range(0, len(i), step):
        e = np.arange(lo, min(lo + step, len(i)))
        found = lookup.find(np.repeat(i[e, None], nb_index.shape[1], axis=1), nb_index[j[e]])
        ok = (found >= 0) & (nb_weight[j[e]] > 0)
        src.append(np.broadcast_to(e[:, None], ok.shape)[ok])
        dst.append(found[ok])
        sim.append(nb_weight[j[e]][ok])
    cat = np.concatenate
    return (cat(src) if src else np.zeros(0, np.int64), cat(dst) if dst else np.zeros(0, np.int64),
            cat(sim) if sim else np.zeros(0))


def _smooth(links: tuple[np.ndarray, np.ndarray, np.ndarray], resid: np.ndarray,
            w: np.ndarray, j: np.ndarray, n_edges: int, prior: float) -> np.ndarray:
    """S for the fit's own edges: the similarity- and noise-weighted mean of the model's
    residuals on the neighbour datasets, shrunk by `prior`, from the precomputed links."""
    src, dst, sim = links
    weight = sim * w[j[dst]]
    num = np.bincount(src, weights=weight * resid[dst], minlength=n_edges)
    return num / (prior + np.bincount(src, weights=weight, minlength=n_edges))


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)
