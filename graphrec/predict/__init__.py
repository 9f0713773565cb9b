"""Learning from the transferability graph: features, predictors, training and prediction.

- `graph.TransferGraph`: the graph as arrays; `io.from_zoo` builds one from input files and
  `workflow.read_graph` from the database.
- `features`: node property dicts to feature matrices (`NodeEncoder`).
- `nn`: the SCG4Trf / G4Trf encoder and the pair decoder (torch modules; the GAT layer
  is PyG's GATConv written out);
  `stacked`: R copies of them trained as one (the benchmark's repetitions).
- `predictors`: one `fit` / `predict` interface for SCG4Trf, G4Trf and the baselines;
  `baselines`: random scores and low-rank matrix completion.
- `workflow`: train, predict, recommend and cold start against a database.
"""

from .graph import TransferGraph

__all__ = ["TransferGraph"]
