"""Every predictor by name: what `graphrec train --model NAME`, checkpoints and the benchmark
use to find a predictor class."""

from __future__ import annotations

from typing import Any

from .baselines import MatrixCompletionPredictor, RandomPredictor
from .predictors import G4TrfPredictor, GATPredictor, LinearPredictor, MeanPredictor, Predictor

__all__ = ["PREDICTORS", "make_predictor"]

PREDICTORS: dict[str, type[Predictor]] = {
    p.name: p for p in (GATPredictor, G4TrfPredictor, MeanPredictor, LinearPredictor,
                        MatrixCompletionPredictor, RandomPredictor)
}


def make_predictor(name: str, **config: Any) -> Predictor:
    """A new, unfitted predictor by registry name (`scg4trf`, `g4trf`, `mean`, `linear`,
    `mc`, `random`)."""
    if name not in PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}; choose one of {', '.join(PREDICTORS)}")
    return PREDICTORS[name](**config)
