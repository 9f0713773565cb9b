"""Input checks shared by every score, so each metric's core can trust its arrays.

A transferability score computed from malformed input is worse than an error: it is a
number that looks plausible and ranks models wrongly. So features, labels and source
probabilities are checked once, up front, and every error says what is wrong, where (the
argument, the shapes, the first bad index) and how to fix it.

All arrays leave here as float64 (math) or int64 class codes 0..C-1 (from `np.unique`, so
the original class ids may be any integers or strings).
"""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ..errors import UsageError

# LEEP needs probabilities; rows further than this from summing to 1 are almost surely logits.
ROW_SUM_TOL = 1e-3
NEGATIVE_TOL = -1e-6
# Feature magnitudes the float64 math takes: LogME and H-Score square and sum features, and
# LogME's precisions scale as 1/magnitude² within [1e-300, 1e300]. Beyond 1e±100 the sums
# overflow or underflow and the scores come out wrong, or the eigensolver fails.
MAX_MAGNITUDE = 1e100
MIN_MAGNITUDE = 1e-100
_BLOCK_ELEMENTS = 1 << 22  # class_sums copies at most this many values at a time

__all__ = [
    "Labels",
    "check_features",
    "check_informative",
    "check_labels",
    "check_probs",
    "check_source_labels",
    "class_sums",
]


class Labels(NamedTuple):
    """Class codes 0..C-1 per sample, the original class ids, and samples per class."""

    codes: np.ndarray  # (N,) int64
    classes: np.ndarray  # (C,) original ids, sorted
    counts: np.ndarray  # (C,) int64, all >= 1

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def _array(value: Any, name: str) -> np.ndarray:
    if value is None:
        raise UsageError(f"{name} is missing (got None)")
    try:
        return np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise UsageError(f"could not read {name} as an array: {exc}") from exc


def _first_nonfinite(values: np.ndarray, name: str, unit: str) -> None:
    """Raise when `values` holds NaN or inf, counting each and naming the first bad row."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    n_nan = int(np.isnan(values).sum())
    n_inf = int(bad.sum()) - n_nan
    rows = bad.reshape(len(values), -1).any(axis=1)
    first = int(rows.argmax())
    raise UsageError(
        f"{name} holds {n_nan} NaN and {n_inf} inf value(s) in {int(rows.sum())} {unit}(s) "
        f"(first at index {first}); drop or impute those samples before scoring"
    )


def check_features(features: ArrayLike, name: str = "features") -> np.ndarray:
    """A finite (N, D) float64 matrix with N >= 2 and D >= 1."""
    x = _array(features, name)
    if x.dtype.kind not in "biuf":
        raise UsageError(f"{name} must be numbers, got dtype {x.dtype}")
    if x.ndim != 2:
        hint = ("for one feature per sample pass x.reshape(-1, 1)" if x.ndim == 1
                else "flatten each sample first, e.g. x.reshape(len(x), -1)")
        raise UsageError(f"{name} must be 2-D (samples, dims), got shape {x.shape}; {hint}")
    n, d = x.shape
    if n < 2:
        raise UsageError(f"{name} has {n} row(s); scores need at least 2 samples")
    if d < 1:
        raise UsageError(f"{name} has shape {x.shape}: no feature columns")
    if x.dtype.kind == "f":
        _first_nonfinite(x, name, "row")
    x = np.asarray(x, dtype=np.float64)
    _check_magnitude(x, name)
    return x


def _check_magnitude(x: np.ndarray, name: str) -> None:
    """Refuse features whose scale the float64 math cannot carry (see MAX_MAGNITUDE)."""
    top = float(np.abs(x).max())
    if top > MAX_MAGNITUDE:
        i, j = np.unravel_index(int(np.abs(x).argmax()), x.shape)
        raise UsageError(
            f"{name} reach magnitude {top:.3g} (row {i}, column {j}): the scores square and "
            f"sum features in float64, which overflows beyond about {MAX_MAGNITUDE:.0e}. "
            "Network features are usually within ±1e3: check that this is the features "
            "file, or scale the features down (e.g. divide by their largest magnitude)")
    if 0 < top < MIN_MAGNITUDE:
        raise UsageError(
            f"{name} are all smaller than {MIN_MAGNITUDE:.0e} in magnitude (largest "
            f"{top:.3g}): their squares underflow to 0 in float64 and the scores come out "
            "wrong; check that this is the features file, or scale the features up")


def check_informative(f: np.ndarray, name: str = "features") -> None:
    """Refuse features that are the same for every sample (all zero, or every column
    constant): LogME and H-Score measure how features tell the classes apart, so on such
    features every model scores alike (H-Score 0, LogME that of no features at all)."""
    spread = np.ptp(f, axis=0)
    if (spread <= 1e-12 * np.abs(f).max(axis=0)).all():
        what = "all zero" if not f.any() else "the same for every sample (each column constant)"
        raise UsageError(
            f"{name} are {what}: LogME and H-Score measure how features separate the "
            "classes, so on features that do not vary they say nothing about the model. "
            "Check the feature extraction (the wrong layer, or outputs never computed)")


def _class_codes(values: Any, n: int | None, *, name: str, n_name: str) -> Labels:
    """Map any 1-D integer/string ids to codes 0..C-1; shared by target and source labels."""
    y = _array(values, name)
    if y.ndim == 2:
        one_hot = (y.dtype.kind in "biuf" and y.shape[1] > 1
                   and bool(np.isin(y, (0, 1)).all()) and bool((y.sum(axis=1) == 1).all()))
        if one_hot:
            raise UsageError(f"{name} look one-hot encoded (shape {y.shape}); pass class ids "
                             "instead, e.g. y.argmax(1)")
        hint = "y.ravel()" if y.shape[1] == 1 else "y.argmax(1) for one-hot or score rows"
        raise UsageError(f"{name} must be 1-D (one class id per sample), got shape {y.shape}; "
                         f"try {hint}")
    if y.ndim != 1:
        raise UsageError(f"{name} must be 1-D (one class id per sample), got shape {y.shape}")
    if n is not None and len(y) != n:
        raise UsageError(f"{name} has {len(y)} entries but {n_name} has {n}; "
                         "pass one label per sample, in the same order")
    if y.dtype.kind == "O":
        with contextlib.suppress(TypeError, ValueError):  # strings or a mix: np.unique decides
            y = y.astype(np.float64)
    if y.dtype.kind == "f":
        _first_nonfinite(y, name, "entry")
        frac = y != np.round(y)
        if frac.any():
            i = int(frac.argmax())
            raise UsageError(
                f"{name} must be class ids (integers or strings): {name}[{i}] = {y[i].item()!r} is "
                "not a whole number; for probability rows pass probs.argmax(1)")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "biuUSO":
        raise UsageError(f"{name} must be class ids (integers or strings), got dtype {y.dtype}")
    try:
        classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    except TypeError as exc:
        raise UsageError(f"{name} mix types that cannot be sorted ({exc}); "
                         "use all integers or all strings") from exc
    return Labels(codes.reshape(-1).astype(np.int64), classes, counts.astype(np.int64))


def check_labels(labels: ArrayLike, n: int, n_name: str = "features") -> Labels:
    """Target labels: 1-D class ids for the `n` samples, with at least 2 classes and N > C."""
    out = _class_codes(labels, n, name="labels", n_name=n_name)
    c = out.n_classes
    if c < 2:
        raise UsageError(f"all {n} labels are class {out.classes[0].item()!r}; scores compare "
                         "classes: need at least 2")
    if n <= c:
        raise UsageError(f"{n} samples for {c} classes (N <= C): with one sample per class "
                         "the labels carry no information; need more samples than classes")
    return out


def check_source_labels(source_labels: ArrayLike, n: int | None = None,
                        n_name: str = "labels") -> Labels:
    """Hard source-model labels: 1-D class ids, one per sample (a single class is allowed)."""
    return _class_codes(source_labels, n, name="source_labels", n_name=n_name)


def check_probs(probs: ArrayLike, n: int | None = None, name: str = "source_probs",
                n_name: str = "labels") -> np.ndarray:
    """(N, Z) float64 rows of probabilities: finite, >= 0, each summing to 1."""
    p = _array(probs, name)
    if p.dtype.kind not in "biuf":
        raise UsageError(f"{name} must be numbers, got dtype {p.dtype}")
    if p.ndim != 2:
        raise UsageError(f"{name} must be 2-D (samples, source classes): the source model's "
                         f"softmax outputs; got shape {p.shape}")
    if n is not None and len(p) != n:
        raise UsageError(f"{name} has {len(p)} rows but {n_name} has {n}; pass one "
                         "row per sample, in the same order")
    if p.shape[1] < 1:
        raise UsageError(f"{name} has shape {p.shape}: no source-class columns")
    p = np.asarray(p, dtype=np.float64)
    _first_nonfinite(p, name, "row")
    fix = "they look like logits; apply softmax first, e.g. torch.softmax(x, 1)"
    low = p.min(axis=1)
    if (low < NEGATIVE_TOL).any():
        i = int((low < NEGATIVE_TOL).argmax())
        raise UsageError(f"{name} must hold probabilities, but row {i} has a negative entry "
                         f"({low[i]:.4g}); {fix}")
    sums = p.sum(axis=1)
    off = np.abs(sums - 1.0) > ROW_SUM_TOL
    if off.any():
        i = int(off.argmax())
        raise UsageError(f"{name} rows must sum to 1, but {int(off.sum())} row(s) do not "
                         f"(first: row {i} sums to {sums[i]:.6g}); {fix}")
    return np.clip(p, 0.0, None)


def class_sums(values: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class sums of the rows of a (N, K) matrix: (C, K).

    Sorting plus `np.add.reduceat` needs no (N, C) one-hot matrix, and taking the columns
    in blocks bounds the sorted copy to about 32 MB, so memory stays flat however many
    classes or columns there are. Every class must occur (codes come from `np.unique`),
    which keeps the segment starts strictly increasing.
    """
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(n_classes))
    n, k = values.shape
    out = np.empty((n_classes, k), dtype=np.result_type(values, np.float64))
    block = max(1, _BLOCK_ELEMENTS // max(n, 1))
    for j in range(0, k, block):  # column blocks, not samples
        out[:, j:j + block] = np.add.reduceat(values[order, j:j + block], starts, axis=0)
    return out
