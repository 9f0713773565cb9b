"""R copies of the paper's network, trained together as one: the benchmark's repetitions.

A benchmark trains the same small network on R different masks of one graph. Trained one
after the other, every epoch pays Python and autograd overhead R times on tensors of a few
thousand entries. `StackedTransferModel` holds the R copies' parameters stacked along a
leading axis and runs them in one pass over a graph of R disjoint node sets (copy r's nodes
are r x N .. r x N + N - 1), so each operation works on R times the data for the overhead of
one. The math is that of `TransferEncoder` + `PairDecoder` (GATConv with one head, self
loops, LeakyReLU(0.2) attention, softmax over each node's incoming edges), copy by copy:
the loss is the sum of the copies' own MSE, so each copy's gradient is the gradient it would
get alone, and Adam's update is elementwise, so a stacked run follows the R separate runs up
to floating-point rounding (tested against them).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.utils import softmax

from .nn import PairDecoder, TransferEncoder

__all__ = ["StackedTransferModel"]


class StackedTransferModel(torch.nn.Module):
    """Stacked copies of (`TransferEncoder`, `PairDecoder`) pairs with equal shapes.

    `forward(x, edge_index, ids)` scores every (model, dataset) pair of every copy at once,
    as an (R, models, datasets) tensor: the decoder `sigmoid(w [z_m || z_d] + b)` splits
    into `w_m . z_m + w_d . z_d + b`, a sum of a model term and a dataset term, so the full
    matrix costs O(R (M + D) H), not O(R M D H).
    """

    def __init__(self, encoders: Sequence[TransferEncoder],
                 decoders: Sequence[PairDecoder]) -> None:
        super().__init__()
        if not encoders or len(encoders) != len(decoders):
            raise ValueError("give one decoder per encoder, and at least one of each")
        first = encoders[0]
        for enc in encoders:
            if (enc.in_channels, enc.hidden_channels, enc.out_channels, enc.skip,
                    enc.num_ids) != (first.in_channels, first.hidden_channels,
                                     first.out_channels, first.skip, first.num_ids):
                raise ValueError("stacked encoders must all have the same shape")
        self.copies = len(encoders)
        self.skip = first.skip
        self.num_ids = first.num_ids
        self.hidden = first.hidden_channels
        self._enc_keys = list(first.state_dict())
        self._dec_keys = list(decoders[0].state_dict())
        enc_states = [e.state_dict() for e in encoders]
        dec_states = [d.state_dict() for d in decoders]
        self.enc = torch.nn.ParameterDict({
            k.replace(".", "__"): torch.nn.Parameter(torch.stack([s[k] for s in enc_states]))
            for k in self._enc_keys})
        self.dec = torch.nn.ParameterDict({
            k.replace(".", "__"): torch.nn.Parameter(torch.stack([s[k] for s in dec_states]))
            for k in self._dec_keys})

    def _p(self, name: str) -> Tensor:
        return self.enc[name.replace(".", "__")]

    def embed(self, x: Tensor, edge_index: Tensor, ids: Tensor | None = None) -> Tensor:
        """Node embeddings of every copy, (R, N, H).

        `x` (N, F) is shared; `edge_index` (2, E) holds every copy's edges in the stacked
        node numbering (copy r's node k is r x N + k); `ids` (N,) as for `TransferEncoder`.
        """
        num_nodes = x.shape[0]
        weight = self._p("lin_in.weight")  # (R, H, F): one GEMM for all copies
        h0 = (x @ weight.reshape(-1, weight.shape[-1]).T).reshape(num_nodes, self.copies, -1)
        h0 = h0.transpose(0, 1) + self._p("lin_in.bias")[:, None, :]
        if self.num_ids and ids is not None:
            rows = torch.nonzero(ids >= 0).squeeze(1)
            h0 = h0.index_add(1, rows, self._p("id_embedding.weight")[:, ids[rows], :])
        loops = torch.arange(self.copies * num_nodes, device=x.device)
        src = torch.cat([edge_index[0], loops])
        dst = torch.cat([edge_index[1], loops])
        h1 = self._gat("conv1", h0, src, dst)
        h2 = self._gat("conv2", h1, src, dst)
        if not self.skip:
            return h2
        z = torch.einsum("rnc,rhc->rnh", torch.cat([h0, h1, h2], dim=-1),
                         self._p("lin_out.weight"))
        return z + self._p("lin_out.bias")[:, None, :]

    def _gat(self, conv: str, h: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        copies, num_nodes, hidden = h.shape
        xp = torch.einsum("rnc,rhc->rnh", h, self._p(f"{conv}.lin.weight"))
        att = torch.cat([self._p(f"{conv}.att_src"), self._p(f"{conv}.att_dst")], dim=1)
        a_src, a_dst = torch.bmm(xp, att.reshape(copies, 2, hidden).transpose(1, 2)).unbind(-1)
        flat = xp.reshape(copies * num_nodes, hidden)
        logits = F.leaky_relu(a_src.reshape(-1)[src] + a_dst.reshape(-1)[dst], 0.2)
        alpha = softmax(logits, dst, num_nodes=copies * num_nodes)
        out = torch.zeros_like(flat).index_add_(0, dst, alpha.unsqueeze(-1) * flat[src])
        return out.reshape(copies, num_nodes, hidden) + self._p(f"{conv}.bias")[:, None, :]

    def forward(self, x: Tensor, edge_index: Tensor, ids: Tensor | None,
                num_models: int, pair: Tensor | None = None) -> Tensor:
        """Scores of every (model, dataset) pair of every copy: (R, models, datasets).

        Nodes 0 .. num_models - 1 of `x` are the models, the rest the datasets. `pair`
        (models, datasets, pair_channels) holds the decoders' pair inputs, shared by the
        copies (proxy scores are not masked), when the decoders read any.
        """
        z = self.embed(x, edge_index, ids)
        weight = self.dec["lin__weight"][:, 0, :]  # (R, 2H)
        hidden = z.shape[-1]
        model_term = torch.einsum("rmh,rh->rm", z[:, :num_models], weight[:, :hidden])
        dataset_term = torch.einsum("rdh,rh->rd", z[:, num_models:], weight[:, hidden:])
        logits = model_term[:, :, None] + dataset_term[:, None, :] + self.dec["lin__bias"][
            :, :, None]
        if "lin_pair" in self.dec:
            if pair is None:
                raise ValueError("these decoders read pair inputs: pass pair=")
            logits = logits + torch.einsum("mdk,rk->rmd", pair, self.dec["lin_pair"][:, 0, :])
        return torch.sigmoid(logits)
