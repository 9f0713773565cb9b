"""The predictors' former home, kept so that scripts and notebooks importing from it work.

The code now lives one concept per module: `base` (`Predictor`, checkpoints),
`baselines` (`MeanPredictor` with the other baselines), `linear` (`LinearPredictor`),
`gat` (`GATPredictor` = `SCG4TrfPredictor`, `G4TrfPredictor`), `node_features` and
`sparse` (their helpers). Nothing in graphrec imports this module; import from those.
Importing it also imports the registry, so that `Predictor.load` knows every built-in
predictor, as it did when the registry was imported from here.
"""

from . import registry  # noqa: F401  (every built-in predictor known to Predictor.load)
from .base import Predictor
from .baselines import MeanPredictor
from .gat import G4TrfPredictor, GATPredictor, SCG4TrfPredictor
from .linear import LinearPredictor

__all__ = [
    "G4TrfPredictor",
    "GATPredictor",
    "LinearPredictor",
    "MeanPredictor",
    "Predictor",
    "SCG4TrfPredictor",
]
