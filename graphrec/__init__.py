"""graphrec: choose the pre-trained model to fine-tune, from a transferability graph."""

from .api import Graphrec, load, open
from .errors import GraphrecError, Problem, StoreError, UsageError, ValidationError

__version__ = "0.1.0"
__all__ = [
           "Graphrec",
           "GraphrecError",
           "Problem",
           "StoreError",
           "UsageError",
           "ValidationError",
           "__version__",
           "load",
           "open",
]
