"""graphrec: choose the pre-trained model to fine-tune, from a transferability graph."""

from .api import Graphrec, load, open
from .errors import GraphrecError, Problem, StoreError, UsageError, ValidationError
from .version import __version__

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
