"""Every predictor by name: what `graphrec train --model NAME`, checkpoints and the benchmark
use to find a predictor class.

- `auto` (`AutoPredictor`, the default): candidates chosen and blended on the graph itself.
- `hla` (`HierarchicalLogitPredictor`): HLA, hierarchical logit with attribute smoothing:
  model and dataset effects on the logit scale, per-model metadata interactions, and
  residuals smoothed over datasets that share attributes (domain, labels).
- `scg4trf` (`GATPredictor`) and `g4trf` (`G4TrfPredictor`): the paper's graph attention
  networks, with and without the skip combination.
- `mean` (`MeanPredictor`): a model's mean known accuracy, the same for every dataset.
- `linear` (`LinearPredictor`): ridge on model and dataset features plus per-name offsets.
- `mc` (`MatrixCompletionPredictor`): low-rank matrix completion (soft-impute).
- `random` (`RandomPredictor`): uniform scores, the floor.
- `proxy` (`ProxyScorePredictor`): a proxy score (LogME, LEEP, ...) alone.

A checkpoint records the name, so the names never change (`load_checkpoint`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .auto import AutoPredictor
from .base import Predictor
from .baselines import (
    MatrixCompletionPredictor,
    MeanPredictor,
    ProxyScorePredictor,
    RandomPredictor,
)
from .gat import G4TrfPredictor, GATPredictor
from .hierarchical import HierarchicalLogitPredictor
from .linear import LinearPredictor

__all__ = ["DEFAULT_PREDICTOR", "PREDICTORS", "load_checkpoint", "make_predictor"]

#: What `graphrec train` fits unless told otherwise: candidates chosen on the graph itself.
DEFAULT_PREDICTOR = "auto"

PREDICTORS: dict[str, type[Predictor]] = {
    p.name: p for p in (AutoPredictor, HierarchicalLogitPredictor, GATPredictor,
                        G4TrfPredictor, MeanPredictor, LinearPredictor,
                        MatrixCompletionPredictor, RandomPredictor, ProxyScorePredictor)
}


def make_predictor(name: str, **config: Any) -> Predictor:
    """A new, unfitted predictor by registry name (`auto`, `hla`, `scg4trf`, `g4trf`,
    `mean`, `linear`, `mc`, `random`, `proxy`)."""
    if name not in PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}; choose one of {', '.join(PREDICTORS)}")
    return PREDICTORS[name](**config)


def load_checkpoint(path: str | Path, *, device: str | None = None) -> Predictor:
    """The fitted predictor saved at `path` (`Predictor.save`), whichever built-in one it
    is: `Predictor.load` with every class of `PREDICTORS` imported (this module's imports).
    `device` overrides the saved one; a defective file is a ValueError saying why."""
    return Predictor.load(path, device=device)
