"""Every predictor by name: what `graphrec train --model NAME`, checkpoints and the benchmark
use to find a predictor class."""

from __future__ import annotations

from typing import Any

from .auto import AutoPredictor
from .baselines import MatrixCompletionPredictor, ProxyScorePredictor, RandomPredictor
from .hierarchical import HierarchicalPredictor
from .predictors import G4TrfPredictor, GATPredictor, LinearPredictor, MeanPredictor, Predictor

__all__ = ["DEFAULT_PREDICTOR", "PREDICTORS", "make_predictor"]

#: What `graphrec train` fits unless told otherwise: candidates chosen on the graph itself.
DEFAULT_PREDICTOR = "auto"

PREDICTORS: dict[str, type[Predictor]] = {
    p.name: p for p in (AutoPredictor, HierarchicalPredictor, GATPredictor, G4TrfPredictor,
                        MeanPredictor, LinearPredictor, MatrixCompletionPredictor,
                        RandomPredictor, ProxyScorePredictor)
}


def make_predictor(name: str, **config: Any) -> Predictor:
    """A new, unfitted predictor by registry name (`hla`, `scg4trf`, `g4trf`, `mean`,
    `linear`, `mc`, `random`, `proxy`)."""
    if name not in PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}; choose one of {', '.join(PREDICTORS)}")
    return PREDICTORS[name](**config)
