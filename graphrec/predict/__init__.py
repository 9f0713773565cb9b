"""Learning from the transferability graph: features, predictors, training and prediction.

- `graph.TransferGraph`: the graph as arrays; `io.from_zoo` builds one from input files and
  `workflow.read_graph` from the database.
- `features`: node property dicts to feature matrices (`NodeEncoder`).
- `nn`: the SCG4Trf / G4Trf encoder and the pair decoder (torch modules; the GAT layer
  is PyG's GATConv written out);
  `stacked`: R copies of them trained as one (the benchmark's repetitions).
- `base.Predictor`: one `fit` / `predict` / `save` interface (scikit-learn's parameters),
  implemented by `auto` (the default), `hierarchical` (`hla`), `gat` (SCG4Trf, G4Trf),
  `linear` and `baselines` (mean, random, matrix completion, a proxy score alone);
  `registry`: every predictor by the name `graphrec train --model` and checkpoints use.
- `workflow`: train, predict, recommend and cold start against a database.
"""

from .graph import TransferGraph

__all__ = ["TransferGraph"]
