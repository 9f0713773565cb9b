"""The paper's graph attention predictors: `scg4trf` (SCG4Trf, Chen et al., 2024: a GAT
encoder with skip combination and a pair decoder) and `g4trf` (the same without the skip).

`fit` trains one network; `fit_predict_many` trains R copies together (the benchmark's
repetitions, `stacked.StackedTransferModel`), each as `fit` would alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..checks import check_integer, check_number
from .base import check_fit_graph
from .graph import TransferGraph
from .nn import PairDecoder, TransferEncoder
from .node_features import FeaturePredictor
from .pair_scores import PairScores, check_use_scores, select_metrics
from .stacked import StackedTransferModel, edge_log_counts, intra_op_threads, stacked_threads

__all__ = ["G4TrfPredictor", "GATPredictor", "SCG4TrfPredictor"]


class GATPredictor(FeaturePredictor):
    """SCG4Trf (Chen et al., 2024): a GAT encoder with skip combination and a pair decoder.

    Node features: models first, then datasets. With the default encoders, model rows are
    `[model features || 0]` and dataset rows `[0 || dataset features]`, so the first linear
    layer acts as a per-type projection; explicit arrays of equal width (the authors' 852-dim
    files) are stacked as they are. With `identity`, a node's name (for sides with the
    default encoders) is an index into one vocabulary, the models' names then the datasets'
    as `fit` saw them, and the encoder adds that index's embedding row to the projection:
    the same model as a one-hot of the name appended to the features, at O(nodes x hidden)
    memory; a name `fit` never saw adds nothing. Edges run model -> dataset, as in the
    authors' code, and at prediction time the graph's own observed edges are used for message
    passing. Training is full batch, Adam, MSE on the observed edges, a fixed number of epochs.
    With `use_scores`, the pair's proxy scores (SCORED edges, see `pair_scores`) enter the
    decoder as pair inputs; a graph without scores trains exactly as before.
    """

    name = "scg4trf"
    skip: ClassVar[bool] = True
    cold_start_reads_graph: ClassVar[bool] = True  # model embeddings pass messages over edges
    _PREDICT_CHUNK: ClassVar[int] = 1 << 18  # pairs decoded at once

    def __init__(self, hidden: int = 64, epochs: int = 300, lr: float = 5e-3, seed: int = 0,
                 device: str = "cpu", progress: bool = False, identity: bool = True,
                 text: bool = False, use_scores: bool | str | Sequence[str] = True,
                 model_features: np.ndarray | None = None,
                 dataset_features: np.ndarray | None = None) -> None:
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.seed = seed
        self.device = device
        self.progress = progress
        self.identity = identity
        self.text = text
        self.use_scores = use_scores
        self.model_features = model_features
        self.dataset_features = dataset_features

    def _check_config(self) -> None:
        check_integer("hidden", self.hidden, 1)
        check_integer("epochs", self.epochs, 1)
        check_number("lr", self.lr, 0, strict=True)
        check_use_scores(self.use_scores)
        self._device()

    def _device(self) -> torch.device:
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device {self.device!r} is not a torch device: {exc}") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {self.device!r} asks for a GPU, but torch sees none "
                             "(use device='cpu')")
        return device

    def _num_ids(self) -> int:
        return self._features.num_ids("model") + self._features.num_ids("dataset")

    def _inputs(self, graph: TransferGraph, device: torch.device
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Node features (models, then datasets), model -> dataset edges and node ids.

        Ids: model i of the fitted vocabulary is i, dataset j is (number of model names) + j,
        -1 for no identity; None when the predictor has no identities at all.
        """
        fm, fd = self._features.transform(graph)
        if self._features.both_explicit and fm.shape[1] == fd.shape[1]:
            x = np.concatenate([fm, fd], axis=0)
        else:
            x = np.zeros((len(fm) + len(fd), fm.shape[1] + fd.shape[1]))
            x[:len(fm), :fm.shape[1]] = fm
            x[len(fm):, fm.shape[1]:] = fd
        edges = torch.from_numpy(graph.edges.T.copy())
        edge_index = torch.stack([edges[0], edges[1] + graph.num_models])
        ids = None
        if self._num_ids():
            model_ids, dataset_ids = self._features.ids(graph)
            dataset_ids = np.where(dataset_ids >= 0,
                                   dataset_ids + self._features.num_ids("model"), -1)
            ids = torch.from_numpy(np.concatenate([model_ids, dataset_ids])).to(device)
        return (torch.from_numpy(x).to(device=device, dtype=torch.float32),
                edge_index.to(device), ids)

    def _modules(self, in_channels: int, num_ids: int, device: torch.device
                 ) -> tuple[TransferEncoder, PairDecoder]:
        encoder = TransferEncoder(in_channels, self.hidden, self.hidden, skip=self.skip,
                                  num_ids=num_ids)
        return encoder.to(device), PairDecoder(self.hidden, self._pairs.width).to(device)

    def _fit(self, graph: TransferGraph) -> None:
        device = self._device()
        self._features = self._new_features().fit(graph)
        self._pairs = PairScores(select_metrics(graph, self.use_scores))
        x, edge_index, ids = self._inputs(graph, device)
        pair = self._pair_inputs(graph, device)(graph.edges)
        src = torch.from_numpy(graph.edges[:, 0].copy()).to(device)
        dst = torch.from_numpy(graph.edges[:, 1] + graph.num_models).to(device)
        target = torch.from_numpy(graph.accuracy).to(device=device, dtype=torch.float32)
        encoder, decoder = self._seeded_modules(x.shape[1], device, self.seed)
        optimizer = torch.optim.Adam(chain(encoder.parameters(), decoder.parameters()),
                                     lr=self.lr)
        encoder.train()
        decoder.train()
        bar = tqdm(range(self.epochs), desc=self.name, disable=not self.progress, leave=False)
        loss = torch.zeros(())
        for _ in bar:
            optimizer.zero_grad()
            loss = F.mse_loss(decoder.decode(encoder(x, edge_index, ids), src, dst, pair),
                              target)
            loss.backward()
            optimizer.step()
            if self.progress:
                bar.set_postfix(loss=f"{loss.item():.5f}")
        bar.close()
        self.train_loss = float(loss.item())
        self.encoder_, self.decoder_ = encoder.eval(), decoder.eval()

    def _pair_inputs(self, graph: TransferGraph, device: torch.device
                     ) -> Callable[[np.ndarray], torch.Tensor | None]:
        """The decoder's pair inputs for pairs of `graph` (None when it reads none), with
        the per-graph work of `PairScores.bind` done once."""
        if not self._pairs.width:
            return lambda pairs: None
        features = self._pairs.bind(graph)
        return lambda pairs: torch.from_numpy(features(pairs)).to(device=device,
                                                                   dtype=torch.float32)

    def _seeded_modules(self, in_channels: int, device: torch.device, seed: int
                        ) -> tuple[TransferEncoder, PairDecoder]:
        """Fresh modules drawn from `seed` inside a forked RNG: reproducible, and the
        caller's RNG untouched."""
        forked = []
        if device.type == "cuda":
            forked = [torch.cuda.current_device() if device.index is None else device.index]
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            return self._modules(in_channels, self._num_ids(), device)

    def _snapshots(self, snapshots: Sequence[int] | None) -> list[int]:
        steps = [self.epochs] if snapshots is None else [int(s) for s in snapshots]
        if not steps or any(not 1 <= s <= self.epochs for s in steps):
            raise ValueError(f"snapshots must be epoch counts in 1..{self.epochs} (the "
                             f"predictor's epochs), got {steps}")
        return steps

    def fit_predict_many(self, graphs: Sequence[TransferGraph], *,
                         seeds: Sequence[int] | None = None,
                         snapshots: Sequence[int] | None = None,
                         progress: bool = False) -> np.ndarray:
        """The copies are trained together (`StackedTransferModel`): one pass per epoch over
        a graph of R disjoint copies, each with its own parameters, seed and edges. Copy g
        starts from the parameters `fit` with `seed = seeds[g]` would draw, and its loss is
        its own MSE, so its scores are those of that fit up to float rounding."""
        graphs = list(graphs)
        seeds = self._seeds(seeds, len(graphs))
        steps = self._snapshots(snapshots)
        self._check_config()
        if not graphs:
            return np.empty((len(steps), 0, 0, 0))
        first = graphs[0]
        for graph in graphs:
            check_fit_graph(graph)
            if graph.models != first.models or graph.datasets != first.datasets:
                raise ValueError("stacked training needs graphs with the same models and "
                                 "datasets, in the same order (masks of one matrix)")
        device = self._device()
        # Every copy has the same nodes, so one fitted encoder serves all (`_inputs` reads it
        # from self; this predictor itself stays unfitted).
        self._features = self._new_features().fit(first)
        self._pairs = PairScores(select_metrics(first, self.use_scores))
        x, _, ids = self._inputs(first, device)
        pair = (torch.from_numpy(self._pairs.dense(first)).to(device=device, dtype=torch.float32)
                if self._pairs.width else None)
        log_counts = edge_log_counts([graph.edges for graph in graphs], first.num_models,
                                     first.num_datasets, device)
        cells = first.num_models * first.num_datasets
        flat_index = torch.from_numpy(np.concatenate([
            graph.edges[:, 0] * first.num_datasets + graph.edges[:, 1] + g * cells
            for g, graph in enumerate(graphs)])).to(device)
        target = torch.from_numpy(np.concatenate([graph.accuracy for graph in graphs])).to(
            device=device, dtype=torch.float32)
        # Per-copy MSE summed: copy g's edges weigh 1 / (its edge count).
        weight = torch.cat([torch.full((len(graph.edges),), 1.0 / len(graph.edges))
                            for graph in graphs]).to(device)
        pairs = [self._seeded_modules(x.shape[1], device, seed) for seed in seeds]
        model = StackedTransferModel([e for e, _ in pairs], [d for _, d in pairs]).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr, fused=True)
        out = np.full((len(steps), len(graphs), first.num_models, first.num_datasets), np.nan)
        wanted: dict[int, list[int]] = {}
        for k, step in enumerate(steps):
            wanted.setdefault(step, []).append(k)
        model.train()
        bar = tqdm(range(1, max(steps) + 1), desc=self.name, disable=not progress, leave=False)
        with intra_op_threads(stacked_threads(device, x.shape[1], len(graphs) * self.hidden,
                                                x.shape[0])):
            for epoch in bar:
                optimizer.zero_grad()
                scores = model(x, log_counts, ids, pair).reshape(-1)
                loss = (weight * (scores.index_select(0, flat_index) - target) ** 2).sum()
                loss.backward()
                optimizer.step()
                if epoch in wanted:
                    with torch.no_grad():
                        done = model(x, log_counts, ids, pair)
                    out[wanted[epoch]] = done.cpu().numpy().astype(np.float64)[None]
        bar.close()
        return out

    def _predict(self, graph: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        return self._scorer(graph)(pairs)

    def _embed(self, graph: TransferGraph) -> torch.Tensor:
        if not self._fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted: call fit() first")
        assert self.encoder_ is not None
        device = next(self.encoder_.parameters()).device
        x, edge_index, ids = self._inputs(graph, device)
        if x.shape[1] != self.encoder_.in_channels:
            raise ValueError(f"the node features have {x.shape[1]} columns but the predictor "
                             f"was fitted on {self.encoder_.in_channels}")
        with torch.no_grad():
            return self.encoder_(x, edge_index, ids)

    def embeddings(self, graph: TransferGraph) -> tuple[np.ndarray, np.ndarray]:
        """The learnt embeddings z the decoder reads: (models x hidden, datasets x hidden),
        for plots such as the paper's t-SNE (Figure 2)."""
        z = self._embed(graph).cpu().numpy().astype(np.float64)
        return z[:graph.num_models], z[graph.num_models:]

    def _scorer(self, graph: TransferGraph) -> Callable[[np.ndarray], np.ndarray]:
        """Embed every node once; the returned function only decodes pairs."""
        assert self.decoder_ is not None
        z = self._embed(graph)
        device = z.device
        decoder, step, offset = self.decoder_, self._PREDICT_CHUNK, graph.num_models
        pair_inputs = self._pair_inputs(graph, device)

        def decode(pairs: np.ndarray) -> np.ndarray:
            src = torch.from_numpy(pairs[:, 0].copy()).to(device)
            dst = torch.from_numpy(pairs[:, 1] + offset).to(device)
            with torch.no_grad():
                scores = torch.cat([
                    decoder.decode(z, src[k:k + step], dst[k:k + step],
                                   pair_inputs(pairs[k:k + step]))
                    for k in range(0, len(src), step)])
            return scores.cpu().numpy().astype(np.float64)

        return decode

    def get_state(self) -> dict[str, Any]:
        assert self.encoder_ is not None and self.decoder_ is not None

        def cpu(module: torch.nn.Module) -> dict[str, torch.Tensor]:
            return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}

        return {"in_channels": self.encoder_.in_channels, "num_ids": self.encoder_.num_ids,
                "encoder": cpu(self.encoder_),
                "decoder": cpu(self.decoder_), "features": self._features.state(),
                "score_metrics": list(self._pairs.metrics), "train_loss": self.train_loss}

    def set_state(self, state: dict[str, Any]) -> None:
        self._features = self._new_features()
        self._features.load_state(state["features"])
        self._pairs = PairScores([str(m) for m in state.get("score_metrics", [])])
        num_ids = int(state.get("num_ids", 0))
        if num_ids != self._num_ids():
            raise ValueError(f"the state's encoder has {num_ids} node ids but its name "
                             f"vocabularies hold {self._num_ids()} names")
        encoder, decoder = self._modules(int(state["in_channels"]), num_ids, self._device())
        encoder.load_state_dict(state["encoder"])
        decoder.load_state_dict(state["decoder"])
        self.encoder_, self.decoder_ = encoder.eval(), decoder.eval()
        loss = state.get("train_loss")
        self.train_loss = None if loss is None else float(loss)
        self._fitted = True


SCG4TrfPredictor = GATPredictor


class G4TrfPredictor(GATPredictor):
    """G4Trf: the same network without the skip combination (embeddings = last GAT layer)."""

    name = "g4trf"
    skip: ClassVar[bool] = False
