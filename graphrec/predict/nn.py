"""The paper's graph auto-encoder: a GAT encoder over the known edges and a pair decoder.

Faithful to G4Trf / SCG4Trf (Chen et al., 2024) and to the authors' script: a linear
projection, two single-head GAT layers with no activation in between, and (SCG4Trf) a skip
combination of all three representations. Edge values are not given to the convolutions:
which edges are known shapes the neighbourhoods, their accuracies only enter the loss.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Linear
from torch_geometric.nn import GATConv


class TransferEncoder(torch.nn.Module):
    """Node features -> embeddings z, one row per node (models and datasets alike).

    `skip=True` is SCG4Trf: `z = W [h0 || h1 || h2]`, so shallow metadata features reach the
    decoder even for nodes the GAT layers barely change (cold-start datasets, and models,
    which only see themselves when edges run model -> dataset). `skip=False` is G4Trf:
    `z = h2`, hence `out_channels` must equal `hidden_channels`.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64, out_channels: int = 64,
                 skip: bool = True) -> None:
        super().__init__()
        if not skip and out_channels != hidden_channels:
            raise ValueError("without the skip combination the output is the last GAT layer, "
                             f"so out_channels ({out_channels}) must equal hidden_channels "
                             f"({hidden_channels})")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.skip = skip
        self.lin_in = Linear(in_channels, hidden_channels)
        self.conv1 = GATConv(hidden_channels, hidden_channels)
        self.conv2 = GATConv(hidden_channels, hidden_channels)
        self.lin_out = Linear(3 * hidden_channels, out_channels) if skip else None

    def reset_parameters(self) -> None:
        self.lin_in.reset_parameters()
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()
        if self.lin_out is not None:
            self.lin_out.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        h0 = self.lin_in(x)
        h1 = self.conv1(h0, edge_index)
        h2 = self.conv2(h1, edge_index)
        if self.lin_out is None:
            return h2
        return self.lin_out(torch.cat([h0, h1, h2], dim=-1))

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, "
                f"{self.out_channels}, skip={self.skip})")


class PairDecoder(torch.nn.Module):
    """Edge weight of (source, target) pairs: `sigmoid(W [z_src || z_dst])`.

    Asymmetric on purpose (a model and a dataset play different roles), and bounded to
    (0, 1) like the accuracies it predicts.
    """

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        self.channels = channels
        self.lin = Linear(2 * channels, 1)

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    def forward(self, z_src: Tensor, z_dst: Tensor) -> Tensor:
        """Scores of aligned rows: row k of the result pairs `z_src[k]` with `z_dst[k]`."""
        return torch.sigmoid(self.lin(torch.cat([z_src, z_dst], dim=-1))).squeeze(-1)

    def decode(self, z: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        """Scores of node pairs `(src[k], dst[k])` of one embedding matrix, in one pass."""
        return self(z.index_select(0, src), z.index_select(0, dst))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels})"
