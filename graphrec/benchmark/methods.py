"""The methods a benchmark compares, each a configured predictor behind one interface.

A method is a name, how the table shows it, which features it reads, and a factory for its
`Predictor`; the runner treats them all alike (`Predictor.fit_predict_many`). Methods named
`...+scores` are the same predictor reading the proxy scores (SCORED edges) as well; the
plain ones are told to ignore them, so that one run compares "with" and "without".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..predict.base import Predictor
from ..predict.registry import make_predictor

__all__ = [
    "HOLDOUT_METHODS",
    "METHODS",
    "SCORE_METHOD",
    "Method",
    "MethodSettings",
    "default_methods",
    "get_method",
]


@dataclass(frozen=True)
class MethodSettings:
    """What a benchmark run hands every factory."""

    epochs: int = 500
    device: str = "cpu"
    model_features: np.ndarray | None = None
    dataset_features: np.ndarray | None = None


@dataclass(frozen=True)
class Method:
    key: str
    label: str
    features: str  # "-" none, "m" model metadata, "d" dataset metadata, "ids" node identity
    make: Callable[[MethodSettings], Predictor]
    iterative: bool = False  # reports Avg at an earlier epoch than the buckets
    needs_given_features: bool = False  # reads --model-features / --dataset-features
    needs_scores: bool = False  # reads proxy scores (SCORED edges)
    note: str = ""


def _gat(name: str, given: bool, scores: bool = False
         ) -> Callable[[MethodSettings], Predictor]:
    def make(s: MethodSettings) -> Predictor:
        extra: dict[str, Any] = {}
        if given:
            extra = {"model_features": s.model_features,
                     "dataset_features": s.dataset_features}
        return make_predictor(name, epochs=s.epochs, device=s.device, use_scores=scores,
                              **extra)

    return make


def _plain(name: str, scores: bool, **config: Any) -> Callable[[MethodSettings], Predictor]:
    return lambda s: make_predictor(name, use_scores=scores, **config)


_WITH_SCORES = " + proxy scores"


METHODS: dict[str, Method] = {m.key: m for m in (
    Method("random", "Random", "-", lambda s: make_predictor("random")),
    Method("mean", "Per-model mean", "-", lambda s: make_predictor("mean"),
           note="popularity: a model's mean known accuracy, the same for every dataset"),
    Method("mc", "MC", "-", lambda s: make_predictor("mc"),
           note="soft-impute, rank 10, randomized SVD"),
    Method("proxy", "Proxy score alone", "scores", lambda s: make_predictor("proxy"),
           needs_scores=True,
           note="each dataset's models ranked by their proxy score (as the paper's LogME "
                "and LEEP rows)"),
    Method("lr", "LR", "d,m", _plain("linear", False, identity=False),
           note="ridge on [model metadata || dataset metadata] (Li et al., CVPR 2023)"),
    Method("lr+scores", "LR" + _WITH_SCORES, "d,m,scores", _plain("linear", True, identity=False),
           needs_scores=True),
    Method("linear", "Linear + offsets", "d,m,ids", _plain("linear", False),
           note="LR plus a learnt offset per model and per dataset (graphrec's `linear`)"),
    Method("linear+scores", "Linear + offsets" + _WITH_SCORES, "d,m,ids,scores",
           _plain("linear", True), needs_scores=True),
    Method("g4trf", "G4Trf", "d,m,ids", _gat("g4trf", False), iterative=True),
    Method("scg4trf", "SCG4Trf", "d,m,ids", _gat("scg4trf", False), iterative=True),
    Method("scg4trf+scores", "SCG4Trf" + _WITH_SCORES, "d,m,ids,scores",
           _gat("scg4trf", False, True), iterative=True, needs_scores=True,
           note="the pair's standardised proxy scores enter the decoder"),
    Method("g4trf-given", "G4Trf", "given", _gat("g4trf", True), iterative=True,
           needs_given_features=True),
    Method("scg4trf-given", "SCG4Trf", "given", _gat("scg4trf", True), iterative=True,
           needs_given_features=True,
           note="with the feature files given (the authors' 852-dim .npy for the paper)"),
    Method("hla", "graphrec HLA", "d,ids,graph", _plain("hla", False),
           note="graphrec's HLA, hierarchical logit with attribute smoothing: model and "
                "dataset effects, per-model metadata interactions, noise-weighted columns, "
                "and residuals smoothed over datasets linked by domain and shared labels"),
    Method("auto", "graphrec auto", "chosen", lambda s: make_predictor("auto"),
           note="hla, linear, scg4trf and each proxy score, chosen and blended per graph by "
                "inner held-out repetitions (cold and partial apart) on weighted tau and "
                "top-1 regret"),
    Method("hla+scores", "graphrec HLA" + _WITH_SCORES, "d,ids,graph,scores",
           _plain("hla", True), needs_scores=True,
           note="hla with one weight per proxy score (standardised within each dataset)"),
)}


#: `score:<metric>`: one proxy score alone (the models of each dataset ranked by it).
SCORE_METHOD = "score:"

#: What the held-out protocol compares by default (plus `score:<metric>` per metric).
HOLDOUT_METHODS = ("mean", "proxy", "lr", "linear", "linear+scores", "mc", "scg4trf",
                   "scg4trf+scores", "hla", "hla+scores", "auto")


def get_method(key: str) -> Method:
    """The method named `key`: one of `METHODS`, or `score:<metric>` (a proxy score alone)."""
    if key.startswith(SCORE_METHOD) and len(key) > len(SCORE_METHOD):
        metric = key[len(SCORE_METHOD):]
        return Method(key, f"{metric} alone", "scores",
                      lambda s: make_predictor("proxy", metrics=[metric]), needs_scores=True,
                      note=f"each dataset's models ranked by their {metric} score alone")
    if key not in METHODS:
        raise KeyError(key)
    return METHODS[key]


def default_methods(have_given_features: bool, have_scores: bool = False,
                    protocol: str = "paper", metrics: Sequence[str] = ()) -> list[str]:
    """Every method that can run: the `-given` ones only with feature files, the score
    ones only with proxy scores; the held-out protocol runs `HOLDOUT_METHODS` and each
    metric alone."""
    keys = (list(METHODS) if protocol == "paper"
            else [*HOLDOUT_METHODS[:2], *(SCORE_METHOD + m for m in metrics),
                  *HOLDOUT_METHODS[2:]])
    return [k for k in keys
            if (have_given_features or not get_method(k).needs_given_features)
            and (have_scores or not get_method(k).needs_scores)]
