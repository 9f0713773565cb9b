"""The paper's graph auto-encoder: a GAT encoder over the known edges and a pair decoder.

Faithful to G4Trf / SCG4Trf (Chen et al., 2024) and to the authors' script: a linear
projection, two single-head GAT layers with no activation in between, and (SCG4Trf) a skip
combination of all three representations. Edge values are not given to the convolutions:
which edges are known shapes the neighbourhoods, their accuracies only enter the loss.

The GAT layer is `GATLayer`, the one-head case of PyTorch Geometric's `GATConv` written out in
plain torch (same parameters, initial draws and math), so that importing graphrec does not
import PyTorch Geometric, which alone takes longer to import than torch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, Linear, Parameter
from torch.nn.utils import skip_init

from ..checks import check_integer


def _glorot(param: Tensor) -> None:
    """PyTorch Geometric's `glorot` init: uniform of bound sqrt(6 / (rows + columns))."""
    bound = math.sqrt(6.0 / (param.shape[-2] + param.shape[-1]))
    with torch.no_grad():
        param.uniform_(-bound, bound)


class _GlorotLinear(Linear):
    """A bias-free `Linear` drawn as PyTorch Geometric's `Linear(weight_initializer='glorot')`
    is: glorot, once when built (by `Linear.__init__`) and on every reset."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features, bias=False)

    def reset_parameters(self) -> None:
        _glorot(self.weight)


class GATLayer(torch.nn.Module):
    """`torch_geometric.nn.GATConv(in_channels, out_channels)` with its defaults: one head,
    LeakyReLU(0.2) attention, self loops, no dropout, a bias.

    `h = lin(x)`; edge j -> i gets `alpha_ji = softmax_i(leaky_relu(att_src . h_j +
    att_dst . h_i))` over the incoming edges of i, self loop included (existing self loops
    are replaced by one per node); `out_i = sum_j alpha_ji h_j + bias`. The parameters have
    GATConv's names and shapes (`lin.weight`, `att_src`, `att_dst`, `bias`), so checkpoints
    carry over, and are drawn as GATConv draws them (its `lin` draws its weight when built
    and again in GATConv's reset), so a seed gives the same start.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.negative_slope = 0.2
        self.lin = _GlorotLinear(in_channels, out_channels)  # draws once here
        self.att_src = Parameter(torch.empty(1, 1, out_channels))
        self.att_dst = Parameter(torch.empty(1, 1, out_channels))
        self.bias = Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()
        _glorot(self.att_src)
        _glorot(self.att_dst)
        torch.nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """New node features, (N, out_channels); `edge_index` (2, E) holds [source, target]."""
        num_nodes = x.shape[0]
        h = self.lin(x)
        a_src = (h * self.att_src[0]).sum(-1)
        a_dst = (h * self.att_dst[0]).sum(-1)
        keep = edge_index[0] != edge_index[1]
        loops = torch.arange(num_nodes, device=x.device)
        src = torch.cat([edge_index[0][keep], loops])
        dst = torch.cat([edge_index[1][keep], loops])
        # Gathers are index_select, not h[src]: the gradient of advanced indexing
        # accumulates in a thread-dependent order on CPU, index_select's does not.
        logits = F.leaky_relu(a_src.index_select(0, src) + a_dst.index_select(0, dst),
                              self.negative_slope)
        # Softmax over each target's incoming edges (every node has one: its self loop).
        top = torch.zeros(num_nodes, dtype=logits.dtype, device=x.device).scatter_reduce(
            0, dst, logits.detach(), "amax", include_self=False)
        weight = (logits - top.index_select(0, dst)).exp()
        total = torch.zeros_like(top).index_add(0, dst, weight) + 1e-16
        alpha = weight / total.index_select(0, dst)
        out = torch.zeros_like(h).index_add_(0, dst, alpha.unsqueeze(-1) * h.index_select(0, src))
        return out + self.bias

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, heads=1)"


class TransferEncoder(torch.nn.Module):
    """Node features -> embeddings z, one row per node (models and datasets alike).

    `skip=True` is SCG4Trf: `z = W [h0 || h1 || h2]`, so shallow metadata features reach the
    decoder even for nodes the GAT layers barely change (cold-start datasets, and models,
    which only see themselves when edges run model -> dataset). `skip=False` is G4Trf:
    `z = h2`, hence `out_channels` must equal `hidden_channels`.

    Node identity (`num_ids > 0`): `h0 = lin_in(x) + id_embedding[ids]`, which is exactly
    `Linear(in_channels + num_ids)` over `[x || one-hot(ids)]` (the embedding rows are the
    one-hot's weight columns, the bias is shared) at O(num_ids x hidden) memory instead of a
    dense one-hot matrix of O(nodes x num_ids). The two are initialised alike too: one
    uniform draw of bound `1/sqrt(in_channels + num_ids)`, PyTorch's default for that
    Linear, split between `lin_in.weight` and the embedding, then the bias with the same
    bound; the draws are the same as that Linear's, so with one seed both start equal.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64, out_channels: int = 64,
                 skip: bool = True, num_ids: int = 0) -> None:
        super().__init__()
        if not skip and out_channels != hidden_channels:
            raise ValueError("without the skip combination the output is the last GAT layer, "
                             f"so out_channels ({out_channels}) must equal hidden_channels "
                             f"({hidden_channels})")
        check_integer("num_ids", num_ids, 0)
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.skip = skip
        self.num_ids = int(num_ids)
        if num_ids:
            # Allocated uninitialised, then drawn as one Linear over [x || one-hot] would be.
            self.lin_in = skip_init(Linear, in_channels, hidden_channels)
            self.id_embedding: Embedding | None = skip_init(Embedding, num_ids,
                                                            hidden_channels)
            self._reset_input()
        else:
            self.lin_in = Linear(in_channels, hidden_channels)
            self.id_embedding = None
        self.conv1 = GATLayer(hidden_channels, hidden_channels)
        self.conv2 = GATLayer(hidden_channels, hidden_channels)
        self.lin_out = Linear(3 * hidden_channels, out_channels) if skip else None

    def _reset_input(self) -> None:
        """Draw `lin_in` and the identity embedding as one `Linear(in + num_ids, hidden)`."""
        if self.id_embedding is None:
            self.lin_in.reset_parameters()
            return
        weight, bias = self.lin_in.weight, self.lin_in.bias
        bound = 1.0 / math.sqrt(self.in_channels + self.num_ids)
        with torch.no_grad():
            full = torch.empty(self.hidden_channels, self.in_channels + self.num_ids,
                               dtype=weight.dtype, device=weight.device)
            full.uniform_(-bound, bound)
            weight.copy_(full[:, :self.in_channels])
            self.id_embedding.weight.copy_(full[:, self.in_channels:].T)
            bias.uniform_(-bound, bound)

    def reset_parameters(self) -> None:
        self._reset_input()
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()
        if self.lin_out is not None:
            self.lin_out.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, ids: Tensor | None = None) -> Tensor:
        """Embeddings of the nodes of `x`; `ids[k]` is node k's identity, -1 for none.

        `ids` (int64, one entry per node, each in -1 .. num_ids - 1) is only read when the
        encoder has identities; None means that no node has one.
        """
        h0 = self.lin_in(x)
        if ids is not None:
            h0 = self._add_identity(h0, ids)
        h1 = self.conv1(h0, edge_index)
        h2 = self.conv2(h1, edge_index)
        if self.lin_out is None:
            return h2
        return self.lin_out(torch.cat([h0, h1, h2], dim=-1))

    def _add_identity(self, h0: Tensor, ids: Tensor) -> Tensor:
        if ids.dtype != torch.int64 or ids.shape != h0.shape[:1]:
            raise ValueError(f"ids must be an int64 tensor with one entry per node "
                             f"({h0.shape[0]}), got {ids.dtype} of shape {tuple(ids.shape)}")
        if len(ids) and (int(ids.min()) < -1 or int(ids.max()) >= self.num_ids):
            raise ValueError(f"ids must lie in -1 .. {self.num_ids - 1} (-1: no identity), "
                             f"got {int(ids.min())} .. {int(ids.max())}")
        if self.id_embedding is None:
            return h0  # every id is -1 here
        rows = torch.nonzero(ids >= 0).squeeze(1)
        return h0.index_add(0, rows, self.id_embedding(ids.index_select(0, rows)))

    def __repr__(self) -> str:
        ids = f", num_ids={self.num_ids}" if self.num_ids else ""
        return (f"{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, "
                f"{self.out_channels}, skip={self.skip}{ids})")


class PairDecoder(torch.nn.Module):
    """Edge weight of (source, target) pairs: `sigmoid(W [z_src || z_dst] + u . s)`.

    Asymmetric on purpose (a model and a dataset play different roles), and bounded to
    (0, 1) like the accuracies it predicts. With `pair_channels` > 0, `s` holds per-pair
    inputs that no node embedding can carry (proxy transferability scores such as LogME),
    added linearly; `u` starts at zero and draws nothing from the RNG, so a decoder with
    pair inputs starts where the one without them does.
    """

    def __init__(self, channels: int = 64, pair_channels: int = 0) -> None:
        super().__init__()
        self.channels = channels
        self.pair_channels = pair_channels
        self.lin = Linear(2 * channels, 1)
        self.lin_pair = (torch.nn.Parameter(torch.zeros(1, pair_channels)) if pair_channels
                         else None)

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()
        if self.lin_pair is not None:
            torch.nn.init.zeros_(self.lin_pair)

    def forward(self, z_src: Tensor, z_dst: Tensor, pair: Tensor | None = None) -> Tensor:
        """Scores of aligned rows: row k of the result pairs `z_src[k]` with `z_dst[k]`
        (and `pair[k]`, shape (rows, pair_channels), when the decoder has pair inputs)."""
        logit = self.lin(torch.cat([z_src, z_dst], dim=-1)).squeeze(-1)
        if self.lin_pair is not None:
            if pair is None or pair.shape != (*logit.shape, self.pair_channels):
                got = None if pair is None else tuple(pair.shape)
                raise ValueError(f"this decoder reads {self.pair_channels} pair inputs per row "
                                 f"({tuple(logit.shape)} rows), got {got}")
            logit = logit + pair @ self.lin_pair[0]
        return torch.sigmoid(logit)

    def decode(self, z: Tensor, src: Tensor, dst: Tensor, pair: Tensor | None = None
               ) -> Tensor:
        """Scores of node pairs `(src[k], dst[k])` of one embedding matrix, in one pass."""
        return self(z.index_select(0, src), z.index_select(0, dst), pair)

    def __repr__(self) -> str:
        extra = f", pair_channels={self.pair_channels}" if self.pair_channels else ""
        return f"{self.__class__.__name__}({self.channels}{extra})"
