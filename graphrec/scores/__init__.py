"""Transferability proxy scores: rank pre-trained models for a target task without fine-tuning.

Each score needs one forward pass of a candidate model over the labelled target data:

- `logme(features, labels)`: Bayesian linear evidence of the labels given the features.
- `hscore(features, labels)`: between-class share of the feature covariance.
- `leep(source_probs, labels)`: log-likelihood of the source predictions re-mapped to labels.
- `nce(source_labels, labels)`: −H(target label | hard source label).

`compute` runs several at once from one set of inputs, validated once; `extract` produces
the inputs (penultimate features and softmax outputs) from a torch model and data loader.
Higher is better for every score; compare scores of different models on the same data.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike

from ..errors import UsageError
from ..names import close_names
from .extract import Extracted, extract
from .hscore import hscore, hscore_checked
from .leep import leep, leep_checked
from .logme import LogMEResult, logme, logme_checked, logme_evidence
from .nce import nce, nce_checked
from .validate import (
    check_features,
    check_informative,
    check_labels,
    check_probs,
    check_source_labels,
)

__all__ = [
    "METRICS",
    "NEEDS_SOURCE_PROBS",
    "Extracted",
    "LogMEResult",
    "compute",
    "extract",
    "hscore",
    "known_metrics",
    "leep",
    "logme",
    "logme_evidence",
    "nce",
]

METRICS: tuple[str, ...] = ("logme", "leep", "nce", "hscore")
# Metrics computed from the source model's softmax outputs; the others need features.
NEEDS_SOURCE_PROBS = frozenset({"leep", "nce"})

_INPUTS = {
    "features": "features (--features): penultimate-layer features, shape (N, D)",
    "source_probs": "source_probs (--source-probs): the source model's softmax outputs, "
                    "shape (N, source classes)",
}


def known_metrics(metrics: Iterable[str]) -> list[str]:
    """The metric names in order, without repeats; an error for none or an unknown one."""
    names = list(dict.fromkeys(metrics))
    if not names:
        raise UsageError(f"metrics is empty; choose from {', '.join(METRICS)} "
                         "(or leave them out for every metric the inputs allow)")
    for name in names:
        if name not in METRICS:
            close = close_names(str(name), METRICS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"unknown metric {name!r}{hint}; choose from {', '.join(METRICS)}")
    return names


def _metric_names(metrics: str | Iterable[str] | None, has_features: bool,
                  has_probs: bool) -> list[str]:
    """The requested metrics, in order, without repeats; by default all that can run."""
    if metrics is None:
        names = [m for m in METRICS
                 if (has_probs if m in NEEDS_SOURCE_PROBS else has_features)]
        if not names:
            raise UsageError("nothing to score: pass features (--features) and/or "
                             "source_probs (--source-probs) along with labels (--labels)")
        return names
    names = known_metrics([metrics] if isinstance(metrics, str) else metrics)
    for name in names:
        needs, given = (("source_probs", has_probs) if name in NEEDS_SOURCE_PROBS
                        else ("features", has_features))
        if not given:
            raise UsageError(f"metric {name!r} needs {_INPUTS[needs]}; none was given. "
                             f"Pass it, or leave {name!r} out of the metrics")
    return names


def compute(features: ArrayLike | None = None, labels: ArrayLike | None = None,
            source_probs: ArrayLike | None = None,
            metrics: str | Iterable[str] | None = None) -> dict[str, float]:
    """Scores by metric name, for one model's outputs on one labelled target set.

    `metrics` defaults to every metric whose inputs are given: logme and hscore need
    `features`, leep and nce need `source_probs` (nce uses their argmax as hard source
    labels). Each input is validated once and shared by the metrics that use it.
    """
    names = _metric_names(metrics, features is not None, source_probs is not None)
    if labels is None:
        raise UsageError("labels (--labels) are required: one target class id per sample")
    use_f = any(m not in NEEDS_SOURCE_PROBS for m in names)
    use_p = any(m in NEEDS_SOURCE_PROBS for m in names)
    f = check_features(features) if use_f else None
    if f is not None:
        check_informative(f)
    p = (check_probs(source_probs, None if f is None else len(f),
                     n_name="features") if use_p else None)
    n, n_name = (len(f), "features") if f is not None else (len(p), "source_probs")
    y = check_labels(labels, n, n_name=n_name)

    out: dict[str, float] = {}
    for name in names:
        try:
            if name == "logme":
                out[name] = logme_checked(f, y).score
            elif name == "hscore":
                out[name] = hscore_checked(f, y)
            elif name == "leep":
                out[name] = leep_checked(p, y)
            else:
                out[name] = nce_checked(check_source_labels(p.argmax(axis=1)), y)
        except np.linalg.LinAlgError as exc:  # checked input should not get here
            raise UsageError(f"{name}: the linear algebra failed on these inputs ({exc}); "
                             "check the features for extreme or degenerate values") from None
    return out
