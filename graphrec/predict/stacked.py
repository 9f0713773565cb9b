"""R copies of the paper's network, trained together as one: the benchmark's repetitions.

A benchmark trains the same small network on R different masks of one graph. Trained one
after the other, every epoch pays Python and autograd overhead R times on tensors of a few
thousand entries. `StackedTransferModel` holds the R copies' parameters stacked along a
leading axis and runs them in one pass, so each operation works on R times the data for the
overhead of one. The math is that of `TransferEncoder` + `PairDecoder` (GATConv with one
head, self loops, LeakyReLU(0.2) attention, softmax over each node's incoming edges), copy
by copy: the loss is the sum of the copies' own MSE, so each copy's gradient is the gradient
it would get alone, and Adam's update is elementwise, so a stacked run follows the R
separate runs up to floating-point rounding (tested against them).

The graph is small and bipartite (edges run model -> dataset, plus self loops), so the
attention is computed densely, as an (R, models + 1, datasets) matrix of logits, rather than
edge by edge with gathers and scatters: a model's only incoming edge is its self loop (its
attention weight is exactly 1), a dataset's incoming edges are the models known for it and
its self loop. Absent edges get logit -inf (weight 0), and an edge given k times gets log k
added, which is how an edge-list softmax counts duplicates; the structure is a constant
tensor (`edge_log_counts`) built once per run. Nor are the copies' hidden features (R x N x
64 per layer) ever formed: the decoder reads two numbers per node, which depend linearly on
a handful of directions of each layer's features, so only those are computed (`forward`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .nn import PairDecoder, TransferEncoder

__all__ = ["SMALL_PRODUCT", "StackedTransferModel", "edge_log_counts", "intra_op_threads",
           "stacked_threads"]


def edge_log_counts(edges: Sequence[np.ndarray], num_models: int, num_datasets: int,
                    device: torch.device | str = "cpu") -> Tensor:
    """Each copy's graph as attention offsets: (R, num_models + 1, num_datasets) float32.

    Entry [r, m, d] is log(number of edges m -> d in copy r), -inf where there is none;
    row num_models is dataset d's self loop (log 1 = 0). `edges[r]` is copy r's (E, 2)
    array of [model index, dataset index] rows.
    """
    counts = np.zeros((len(edges), num_models + 1, num_datasets), dtype=np.float32)
    for r, pairs in enumerate(edges):
        np.add.at(counts[r], (pairs[:, 0], pairs[:, 1]), 1.0)
    counts[:, num_models] = 1.0
    with np.errstate(divide="ignore"):
        return torch.from_numpy(np.log(counts)).to(device)


class StackedTransferModel(torch.nn.Module):
    """Stacked copies of (`TransferEncoder`, `PairDecoder`) pairs with equal shapes.

    `forward(x, log_counts, ids)` scores every (model, dataset) pair of every copy at once,
    as an (R, models, datasets) tensor: the decoder `sigmoid(w [z_m || z_d] + b)` splits
    into `w_m . z_m + w_d . z_d + b`, a sum of a model term and a dataset term, so the full
    matrix costs O(R (M + D)) once those terms are known, not O(R M D H).
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

    def _bmm_rows(self, rows: Tensor, columns: Tensor) -> Tensor:
        """`rows[r] . columns[r]` for each copy: (R, H) x (R, H, k) -> (R, 1, k)."""
        return torch.bmm(rows[:, None, :], columns)

    def _reads(self, conv: str, wanted: Tensor, skip: Tensor | None) -> Tensor:
        """The directions q (R, H, k) along which layer `conv`'s input h must be known.

        The layer needs its attention logits' halves `att . (W h)` = `h . (W^T att)` (columns
        0 and 1) and its output along `wanted`, which is `A (W h) . wanted + bias . wanted`,
        so the input along `W^T wanted` (columns 2 .. 2 + w); `skip` adds directions the
        decoder reads from h itself (the skip combination).
        """
        weight = self._p(f"{conv}.lin.weight")  # (R, H_out, H_in)
        att = torch.cat([self._p(f"{conv}.att_src").reshape(self.copies, -1, 1),
                         self._p(f"{conv}.att_dst").reshape(self.copies, -1, 1), wanted],
                        dim=2)
        reads = torch.bmm(weight.transpose(1, 2), att)
        return reads if skip is None else torch.cat([reads, skip], dim=2)

    def _gat(self, conv: str, y: Tensor, wanted: Tensor, log_counts: Tensor
             ) -> tuple[Tensor, Tensor]:
        """Layer `conv` on projections: from `y` = h . q (`q` = `_reads(conv, wanted, ...)`),
        the output h' . wanted (R, N, w) and the skip columns of `y` (h . skip)."""
        num_models, width = log_counts.shape[1] - 1, wanted.shape[-1]
        a_src, a_dst = y[:, :, 0], y[:, num_models:, 1]
        values = y[:, :, 2:2 + width]  # (W h) . wanted, row by row
        models, datasets = values[:, :num_models], values[:, num_models:]
        # Logits of dataset d's incoming edges: from each model (rows) and its self loop.
        logits = torch.cat([a_src[:, :num_models, None] + a_dst[:, None, :],
                            (a_src[:, num_models:] + a_dst)[:, None, :]], dim=1)
        alpha = torch.softmax(F.leaky_relu(logits, 0.2) + log_counts, dim=1)
        out = torch.baddbmm(alpha[:, num_models, :, None] * datasets,
                            alpha[:, :num_models].transpose(1, 2), models)
        # A model's softmax is over its self loop alone: weight 1.
        out = torch.cat([models, out], dim=1) + self._bmm_rows(self._p(f"{conv}.bias"), wanted)
        return out, y[:, :, 2 + width:]

    def forward(self, x: Tensor, log_counts: Tensor, ids: Tensor | None,
                pair: Tensor | None = None) -> Tensor:
        """Scores of every (model, dataset) pair of every copy: (R, models, datasets).

        `x` (N, F) is shared, models first, then datasets; `log_counts` is
        `edge_log_counts` of the copies' edges (it fixes how many nodes are models); `ids`
        (N,) as for `TransferEncoder`. `pair` (models, datasets, pair_channels) holds the
        decoders' pair inputs, shared by the copies (proxy scores are not masked), when the
        decoders read any.

        The decoder reads two numbers per node, `w_m . z` and `w_d . z`. Every map between
        the input projection and the decoder is linear in the node features (the attention
        weights depend on them only through two dot products per layer), so the network is
        evaluated on the few directions those numbers need, found from the decoder back to
        the input (`_reads`): a product of x with (F, about 10) per copy, not with (F, H),
        and the same for its gradient. Same function, other association of the products.
        """
        dec = self.dec["lin__weight"][:, 0, :]  # (R, 2 H_out): [w_m || w_d]
        reads = dec.reshape(self.copies, 2, -1).transpose(1, 2)  # (R, H_out, 2)
        if self.skip:  # z = W [h0 || h1 || h2] + b, so w . z = (W^T w) . [h0 || h1 || h2] + w . b
            u0, u1, u2 = torch.bmm(self._p("lin_out.weight").transpose(1, 2), reads).split(
                self.hidden, dim=1)
        else:  # z = h2
            u0 = u1 = None
            u2 = reads
        q1 = self._reads("conv2", u2, u1)
        q0 = self._reads("conv1", q1, u0)
        # h0 = x W^T + b (+ the identity rows), read along q0.
        weight = self._p("lin_in.weight")  # (R, H, F)
        along = torch.bmm(q0.transpose(1, 2), weight)  # (R, k, F): one GEMM with x for all
        y0 = (x @ along.reshape(-1, x.shape[1]).T).reshape(x.shape[0], self.copies, -1)
        y0 = y0.transpose(0, 1) + self._bmm_rows(self._p("lin_in.bias"), q0)
        if self.num_ids and ids is not None:
            rows = torch.nonzero(ids >= 0).squeeze(1)
            rows_ids = self._p("id_embedding.weight").index_select(1, ids.index_select(0, rows))
            y0 = y0.index_add(1, rows, torch.bmm(rows_ids, q0))
        y1, t0 = self._gat("conv1", y0, q1, log_counts)
        terms, t1 = self._gat("conv2", y1, u2, log_counts)  # (R, N, 2): w_m . z, w_d . z
        if self.skip:
            terms = terms + t0 + t1 + self._bmm_rows(self._p("lin_out.bias"), reads)
        num_models = log_counts.shape[1] - 1
        logits = (terms[:, :num_models, 0, None] + terms[:, None, num_models:, 1]
                  + self.dec["lin__bias"][:, :, None])
        if "lin_pair" in self.dec:
            if pair is None:
                raise ValueError("these decoders read pair inputs: pass pair=")
            logits = logits + torch.einsum("mdk,rk->rmd", pair, self.dec["lin_pair"][:, 0, :])
        return torch.sigmoid(logits)


#: Below this size (nodes x node features x the copies' stacked hidden units: the work of
#: one layer of the copies, computed naively), stacked CPU training runs on one thread;
#: see `stacked_threads`.
SMALL_PRODUCT = 1 << 29


def stacked_threads(device: torch.device, in_channels: int, stacked_hidden: int,
                     nodes: int) -> int | None:
    """Intra-op threads for stacked training: 1 for a small CPU problem, else unchanged.

    An epoch of the paper's benchmark is a few hundred operations of at most ~10^7
    multiply-adds. Split over threads, each one waits for every thread at its end, so when
    other processes hold the cores an epoch stalls on descheduled threads (measured on 2
    busy cores, before stacking was made cheap: 0.8 s per epoch on 2 threads, 32 ms on one),
    while on idle cores a second thread saves little (~1 ms of ~7 ms per epoch).
    """
    if device.type != "cpu" or in_channels * stacked_hidden * nodes >= SMALL_PRODUCT:
        return None
    return 1


@contextmanager
def intra_op_threads(threads: int | None) -> Iterator[None]:
    """Run the block with `threads` intra-op threads (None: as set), then restore."""
    before = torch.get_num_threads()
    if threads is not None and threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
