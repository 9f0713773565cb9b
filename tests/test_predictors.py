"""Predictors: the paper's GAT modules, the GAT and baseline predictors, checkpoints.

Real computations throughout; fits on the toy graph use few epochs since those tests are
about mechanics. The DomainNet test is the acceptance check: SCG4Trf beats the per-model
mean on held-out edges of the paper's data (run with -s to see the figures).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import pearsonr

import graphrec
from graphrec.predict.base import Predictor
from graphrec.predict.baselines import MeanPredictor
from graphrec.predict.features import dataset_encoder, model_encoder
from graphrec.predict.gat import G4TrfPredictor, GATPredictor
from graphrec.predict.graph import TransferGraph
from graphrec.predict.io import from_zoo
from graphrec.predict.linear import LinearPredictor
from graphrec.predict.nn import PairDecoder, TransferEncoder
from graphrec.predict.registry import PREDICTORS, make_predictor
from graphrec.predict.sparse import shared_gram

FAST = {"scg4trf": {"epochs": 20}, "g4trf": {"epochs": 20}, "mean": {}, "linear": {}, "mc": {},
        "random": {}, "hla": {}, "proxy": {}, "auto": {"candidates": ("hla", "linear")}}


def toy_graph(seed: int = 0, scores: bool = False) -> TransferGraph:
    """5 models x 7 datasets with encoder-ready metadata and about 60 % of edges known;
    with `scores`, a proxy score for every pair (noisy, and following accuracy)."""
    rng = np.random.default_rng(seed)
    families = ["resnet", "resnet", "vit", "vit", "convnext"]
    models = [f"m{i}" for i in range(5)]
    model_props = [{"name": n, "family": f, "params": int(1e7 * (i + 1)), "top1": 0.7 + 0.02 * i,
                    "gflops": 1.5 * (i + 1), "input_size": 224,
                    "pretrain_dataset": "ImageNet-1K"}
                   for i, (n, f) in enumerate(zip(models, families, strict=True))]
    domains = ["real", "sketch", "real", "clipart", "sketch", "real", "clipart"]
    datasets = [f"d{j}" for j in range(7)]
    dataset_props = [{"name": n, "domain": d, "num_classes": 2 ** (1 + j % 4),
                      "samples_per_class": 10 * (1 + j % 3), "train_size": 20 * (j + 1),
                      "labels": ["cat", "dog", "car"][: 1 + j % 3]}
                     for j, (n, d) in enumerate(zip(datasets, domains, strict=True))]
    pairs = np.array([(i, j) for i in range(5) for j in range(7)])
    pairs = pairs[rng.random(len(pairs)) < 0.6]
    acc = np.clip(0.5 + 0.06 * pairs[:, 0] - 0.04 * pairs[:, 1] + rng.normal(0, 0.03, len(pairs)),
                  0, 1)
    every = np.array([(i, j) for i in range(5) for j in range(7)])
    proxy = {"logme": (every, 0.06 * every[:, 0] + rng.normal(0, 0.05, len(every)))}
    return TransferGraph(models, datasets, model_props, dataset_props, pairs, acc,
                         proxy if scores else {})


def with_cold_start(graph: TransferGraph) -> TransferGraph:
    """The graph plus a new dataset and a new model (copied metadata, new names, no edges)."""
    return TransferGraph([*graph.models, "new-model"], [*graph.datasets, "new-dataset"],
                         [*graph.model_props, {**graph.model_props[0], "name": "new-model"}],
                         [*graph.dataset_props, {**graph.dataset_props[0], "name": "new-dataset"}],
                         graph.edges, graph.accuracy, graph.scores)


# -- modules ------------------------------------------------------------------------------


@pytest.mark.parametrize("skip", [True, False])
def test_encoder_shapes_do_not_depend_on_graph_size(skip: bool) -> None:
    torch.manual_seed(0)
    enc = TransferEncoder(7, hidden_channels=16, out_channels=16, skip=skip)
    for n, e in ((12, 20), (300, 1000)):
        x = torch.randn(n, 7)
        edge_index = torch.randint(0, n, (2, e))
        assert enc(x, edge_index).shape == (n, 16)
    assert (enc.lin_out is not None) == skip


def test_encoder_skip_combination_maps_three_layers_to_out_channels() -> None:
    enc = TransferEncoder(5, hidden_channels=8, out_channels=3)
    assert enc.lin_out is not None and enc.lin_out.in_features == 24
    z = enc(torch.randn(6, 5), torch.tensor([[0, 1, 2], [3, 4, 5]]))
    assert z.shape == (6, 3)
    z.sum().backward()
    assert all(p.grad is not None for p in enc.parameters())
    with pytest.raises(ValueError, match="out_channels"):
        TransferEncoder(5, hidden_channels=8, out_channels=3, skip=False)


def _dense_twin(enc: TransferEncoder) -> TransferEncoder:
    """A TransferEncoder over [x || one-hot(ids)] holding `enc`'s weights, copied across."""
    twin = TransferEncoder(enc.in_channels + enc.num_ids, enc.hidden_channels,
                           enc.out_channels, skip=enc.skip).double()
    state = {k: v for k, v in enc.state_dict().items() if not k.startswith("id_embedding")}
    assert enc.id_embedding is not None
    state["lin_in.weight"] = torch.cat([enc.lin_in.weight, enc.id_embedding.weight.T], dim=1)
    twin.load_state_dict(state)
    return twin


def _one_hot(ids: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.zeros(len(ids), n, dtype=torch.float64)
    known = ids >= 0
    out[known, ids[known]] = 1.0
    return out


@pytest.mark.parametrize("skip", [True, False])
def test_encoder_ids_are_a_linear_over_features_and_one_hot(skip: bool) -> None:
    torch.manual_seed(0)
    enc = TransferEncoder(5, hidden_channels=8, out_channels=8, skip=skip, num_ids=7).double()
    with torch.no_grad():  # nothing may hide behind an all-zero embedding or bias
        enc.id_embedding.weight.normal_()
        enc.lin_in.bias.normal_()
    twin = _dense_twin(enc)
    x = torch.randn(10, 5, dtype=torch.float64)  # float64: equal up to rounding, tightly
    ids = torch.tensor([3, 0, 6, -1, 1, 2, -1, 4, 5, 3])  # -1: a name fit never saw
    edge_index = torch.randint(0, 10, (2, 30))
    z = enc(x, edge_index, ids)
    torch.testing.assert_close(z, twin(torch.cat([x, _one_hot(ids, 7)], 1), edge_index))
    # the same gradients: the embedding rows are the one-hot's weight columns
    z.square().sum().backward()
    twin(torch.cat([x, _one_hot(ids, 7)], 1), edge_index).square().sum().backward()
    assert enc.id_embedding.weight.grad is not None and twin.lin_in.weight.grad is not None
    torch.testing.assert_close(enc.id_embedding.weight.grad, twin.lin_in.weight.grad[:, 5:].T)
    torch.testing.assert_close(enc.lin_in.weight.grad, twin.lin_in.weight.grad[:, :5])
    # an unseen name (-1) contributes nothing: no ids at all is metadata alone
    none = torch.full((10,), -1)
    torch.testing.assert_close(enc(x, edge_index, none), enc(x, edge_index))
    torch.testing.assert_close(enc(x, edge_index, none),
                               twin(torch.cat([x, _one_hot(none, 7)], 1), edge_index))


def test_encoder_with_ids_starts_as_the_dense_linear_would() -> None:
    torch.manual_seed(5)
    enc = TransferEncoder(5, 8, 8, num_ids=7)
    torch.manual_seed(5)
    dense = TransferEncoder(12, 8, 8)
    assert enc.id_embedding is not None and "num_ids=7" in repr(enc)
    assert torch.equal(torch.cat([enc.lin_in.weight, enc.id_embedding.weight.T], 1),
                       dense.lin_in.weight)
    rest = {k: v for k, v in enc.state_dict().items() if not k.startswith(("lin_in", "id_"))}
    assert all(torch.equal(v, dense.state_dict()[k]) for k, v in rest.items())
    bound = 1 / 12 ** 0.5
    assert float(enc.id_embedding.weight.detach().abs().max()) <= bound


def test_encoder_refuses_bad_ids() -> None:
    enc = TransferEncoder(3, 4, 4, num_ids=2)
    x, edge_index = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    for ids, match in ((torch.tensor([0, 1]), "one entry per node"),
                       (torch.tensor([0.0, 1.0, 1.0]), "int64"),
                       (torch.tensor([0, 2, -1]), r"-1 \.\. 1"),
                       (torch.tensor([0, -2, 1]), r"-1 \.\. 1")):
        with pytest.raises(ValueError, match=match):
            enc(x, edge_index, ids)
    with pytest.raises(ValueError, match=r"-1 \.\. -1"):
        TransferEncoder(3, 4, 4)(x, edge_index, torch.tensor([0, -1, -1]))
    with pytest.raises(ValueError, match="num_ids"):
        TransferEncoder(3, 4, 4, num_ids=-1)


@pytest.mark.parametrize("module", [lambda: TransferEncoder(4, 8, 8), lambda: PairDecoder(8),
                                    lambda: TransferEncoder(4, 8, 8, num_ids=5)])
def test_reset_parameters_redraws_every_parameter(module) -> None:
    m = module()
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(0.123)
    torch.manual_seed(3)
    m.reset_parameters()
    first = {k: v.clone() for k, v in m.state_dict().items()}
    assert all(not bool((v == 0.123).all()) for v in first.values())
    torch.manual_seed(3)
    m.reset_parameters()
    assert all(torch.equal(v, first[k]) for k, v in m.state_dict().items())


def test_decoder_scores_many_pairs_at_once() -> None:
    torch.manual_seed(0)
    dec = PairDecoder(8)
    z = torch.randn(50, 8)
    src, dst = torch.randint(0, 50, (100_000,)), torch.randint(0, 50, (100_000,))
    scores = dec.decode(z, src, dst)
    assert scores.shape == (100_000,)
    assert bool(((scores > 0) & (scores < 1)).all())
    w, b = dec.lin.weight[0], dec.lin.bias[0]
    expected = torch.sigmoid(z[src] @ w[:8] + z[dst] @ w[8:] + b)
    torch.testing.assert_close(scores, expected)
    assert dec(z[:3], z[3:6]).shape == (3,)  # aligned rows


# -- registry and configuration -----------------------------------------------------------


def test_registry_and_make_predictor() -> None:
    assert set(PREDICTORS) == {"auto", "hla", "scg4trf", "g4trf", "mean", "linear", "mc",
                               "random", "proxy"}
    assert isinstance(make_predictor("scg4trf"), GATPredictor)
    g4 = make_predictor("g4trf", epochs=7)
    assert isinstance(g4, G4TrfPredictor) and not g4.skip and g4.get_config()["epochs"] == 7
    assert GATPredictor.skip
    with pytest.raises(ValueError, match="hla, scg4trf, g4trf, mean, linear"):
        make_predictor("nope")


def test_get_config_rebuilds_an_equal_predictor() -> None:
    p = GATPredictor(hidden=16, epochs=5, lr=0.01, seed=4)
    twin = type(p)(**p.get_config())
    assert twin.get_config() == p.get_config()
    assert "hidden=16" in repr(p)


# -- the GAT predictors -------------------------------------------------------------------


def test_same_seed_same_predictions_other_seed_other_predictions() -> None:
    graph = toy_graph()
    pairs = graph.all_pairs()
    a = GATPredictor(epochs=30, seed=0).fit(graph).predict(graph, pairs)
    b = GATPredictor(epochs=30, seed=0).fit(graph).predict(graph, pairs)
    c = GATPredictor(epochs=30, seed=1).fit(graph).predict(graph, pairs)
    assert a.dtype == np.float64 and a.shape == (len(pairs),)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fit_leaves_the_callers_random_state_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    GATPredictor(epochs=2, seed=7).fit(toy_graph())
    assert torch.equal(torch.rand(3), expected)


def test_training_lowers_the_loss() -> None:
    graph = toy_graph()
    short = GATPredictor(epochs=1).fit(graph)
    long = GATPredictor(epochs=150).fit(graph)
    assert isinstance(long.train_loss, float)
    assert long.train_loss < short.train_loss


def test_progress_bar_runs(capsys: pytest.CaptureFixture[str]) -> None:
    GATPredictor(epochs=3, progress=True).fit(toy_graph())
    assert "scg4trf" in capsys.readouterr().err


def test_explicit_features_of_equal_width_are_stacked_else_block_layout() -> None:
    graph = toy_graph()
    rng = np.random.default_rng(0)
    fm, fd = rng.normal(size=(5, 6)), rng.normal(size=(7, 6))
    same = GATPredictor(epochs=3, model_features=fm, dataset_features=fd).fit(graph)
    assert same.encoder_ is not None and same.encoder_.in_channels == 6
    other = GATPredictor(epochs=3, model_features=fm, dataset_features=fd[:, :4]).fit(graph)
    assert other.encoder_ is not None and other.encoder_.in_channels == 10
    scores = same.predict(graph, graph.all_pairs())
    assert np.all((scores >= 0) & (scores <= 1))
    with pytest.raises(ValueError, match="model_features has 5 rows but the graph has 6"):
        same.predict(with_cold_start(graph), graph.all_pairs())


def test_identity_ids_follow_the_configuration() -> None:
    graph = toy_graph()
    with_id = GATPredictor(epochs=2).fit(graph)
    without = GATPredictor(epochs=2, identity=False).fit(graph)
    assert with_id.encoder_ is not None and without.encoder_ is not None
    assert with_id.encoder_.in_channels == without.encoder_.in_channels  # metadata only
    assert (with_id.encoder_.num_ids, without.encoder_.num_ids) == (5 + 7, 0)
    explicit = GATPredictor(epochs=2, model_features=np.ones((5, 2))).fit(graph)
    assert explicit.encoder_ is not None and explicit.encoder_.num_ids == 7  # datasets only


def test_node_ids_are_names_models_first_unseen_minus_one() -> None:
    graph = toy_graph()
    p = GATPredictor(epochs=2).fit(graph)
    cpu = torch.device("cpu")
    assert p._inputs(graph, cpu)[2].tolist() == list(range(12))
    # by name, not position: a reordered graph with a new model and a new dataset
    order_m, order_d = [4, 0, 3, 1, 2], [6, 5, 4, 3, 2, 1, 0]
    other = TransferGraph(
        [graph.models[i] for i in order_m] + ["new-model"],
        ["new-dataset"] + [graph.datasets[j] for j in order_d],
        [graph.model_props[i] for i in order_m] + [{"name": "new-model"}],
        [{"name": "new-dataset"}] + [graph.dataset_props[j] for j in order_d], [], [])
    ids = p._inputs(other, cpu)[2].tolist()
    assert ids == [*order_m, -1, -1, *(5 + j for j in order_d)]
    assert GATPredictor(epochs=2, identity=False).fit(graph)._inputs(graph, cpu)[2] is None


def test_an_unseen_name_scores_as_its_metadata_alone() -> None:
    graph = toy_graph()
    p = GATPredictor(epochs=30).fit(graph)
    renamed = TransferGraph(["other", *graph.models[1:]], graph.datasets,
                            [{**graph.model_props[0], "name": "other"}, *graph.model_props[1:]],
                            graph.dataset_props, graph.edges, graph.accuracy)
    pairs = graph.all_pairs()
    assert p.encoder_ is not None and p.encoder_.id_embedding is not None
    with torch.no_grad():
        p.encoder_.id_embedding.weight[0] = 0.0  # model 0's row: now as if it were unseen
    np.testing.assert_allclose(p.predict(renamed, pairs), p.predict(graph, pairs), atol=1e-6)


def test_old_feature_state_is_refused() -> None:
    p = GATPredictor(epochs=2).fit(toy_graph())
    state = p.get_state()
    state["features"] = state["features"]["encoders"]  # the layout before vocabularies
    with pytest.raises(ValueError, match="train the predictor again"):
        GATPredictor(epochs=2).set_state(state)


# -- every predictor ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_cold_start_nodes_get_finite_scores(name: str) -> None:
    graph = toy_graph(scores=True)
    predictor = make_predictor(name, **FAST[name]).fit(graph)
    bigger = with_cold_start(graph)
    new_dataset = bigger.num_datasets - 1
    pairs = np.stack([np.arange(bigger.num_models), np.full(bigger.num_models, new_dataset)], 1)
    scores = predictor.predict(bigger, pairs)
    assert scores.shape == (bigger.num_models,)
    assert np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))
    everything = predictor.predict(bigger, bigger.all_pairs())
    assert np.all(np.isfinite(everything)) and np.all((everything >= 0) & (everything <= 1))


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_save_load_gives_identical_predictions(name: str, tmp_path: Path) -> None:
    graph = toy_graph(scores=True)
    predictor = make_predictor(name, **FAST[name]).fit(graph)
    path = tmp_path / f"{name}.pt"
    predictor.save(path)
    loaded = Predictor.load(path)
    assert type(loaded) is type(predictor)
    assert loaded.get_config() == predictor.get_config()
    assert getattr(loaded, "train_loss", None) == getattr(predictor, "train_loss", None)
    for g in (graph, with_cold_start(graph)):
        pairs = g.all_pairs()
        assert np.array_equal(loaded.predict(g, pairs), predictor.predict(g, pairs))


def test_save_load_keeps_explicit_feature_arrays(tmp_path: Path) -> None:
    graph = toy_graph()
    rng = np.random.default_rng(1)
    fm, fd = rng.normal(size=(5, 4)), rng.normal(size=(7, 4))
    predictor = G4TrfPredictor(epochs=5, model_features=fm, dataset_features=fd).fit(graph)
    predictor.save(tmp_path / "g4.pt")
    loaded = GATPredictor.load(tmp_path / "g4.pt")  # a subclass is fine
    assert isinstance(loaded, G4TrfPredictor)
    assert isinstance(loaded.model_features, np.ndarray)
    assert np.array_equal(loaded.model_features, fm)
    assert np.array_equal(loaded.predict(graph, graph.all_pairs()),
                          predictor.predict(graph, graph.all_pairs()))
    with pytest.raises(ValueError, match="not a MeanPredictor"):
        MeanPredictor.load(tmp_path / "g4.pt")


# -- baselines with known answers ---------------------------------------------------------


def test_mean_predictor_known_answers() -> None:
    graph = TransferGraph(["a", "b", "c"], ["x", "y"], [{}, {}, {}], [{}, {}],
                          [[0, 0], [0, 1], [1, 0]], [0.2, 0.4, 0.9])
    p = MeanPredictor().fit(graph)
    np.testing.assert_allclose(p.predict(graph, [[0, 0], [0, 1], [1, 1], [2, 0]]),
                               [0.3, 0.3, 0.9, 0.5])
    # by name, not position: a reordered graph with a model fit never saw
    other = TransferGraph(["z", "b", "a"], ["x"], [{}, {}, {}], [{}], [], [])
    np.testing.assert_allclose(p.predict(other, [[0, 0], [1, 0], [2, 0]]), [0.5, 0.9, 0.3])


def test_linear_predictor_recovers_a_linear_truth() -> None:
    fm = np.array([[0.0], [1.0], [2.0]])
    fd = np.array([[0.0], [1.0], [3.0]])
    truth = 0.1 + 0.2 * fm[:, 0][:, None] + 0.05 * fd[:, 0][None, :]  # 3 x 3
    known = [(0, 0), (0, 1), (1, 0), (1, 2), (2, 1)]
    graph = TransferGraph(["a", "b", "c"], ["x", "y", "z"], [{}] * 3, [{}] * 3, known,
                          [truth[i, j] for i, j in known])
    p = LinearPredictor(alpha=1e-9, model_features=fm, dataset_features=fd).fit(graph)
    np.testing.assert_allclose(p.predict(graph, graph.all_pairs()), truth.ravel(), atol=1e-6)
    # heavy shrinkage leaves the intercept: the mean observed accuracy
    flat = LinearPredictor(alpha=1e9, model_features=fm, dataset_features=fd).fit(graph)
    np.testing.assert_allclose(flat.predict(graph, graph.all_pairs()), graph.accuracy.mean(),
                               atol=1e-6)


def test_linear_predictor_clips_to_the_unit_interval() -> None:
    fm = np.array([[0.0], [1.0], [10.0]])
    graph = TransferGraph(["a", "b", "c"], ["x"], [{}] * 3, [{}], [(0, 0), (1, 0)], [0.5, 0.9],)
    p = LinearPredictor(alpha=1e-9, model_features=fm, dataset_features=np.zeros((1, 1)))
    assert p.fit(graph).predict(graph, [[2, 0]])[0] == 1.0


def _dense_ridge(graph: TransferGraph, alpha: float, known: TransferGraph | None = None
                 ) -> np.ndarray:
    """The former LinearPredictor: ridge on dense [model features || model one-hot ||
    dataset features || dataset one-hot], centred; its predictions for all pairs of
    `known` (by default `graph`), names `graph` lacks encoding as zeros."""
    known = known or graph
    encoders = {"m": model_encoder().fit(graph.model_props),
                "d": dataset_encoder().fit(graph.dataset_props)}

    def side(g: TransferGraph, key: str) -> np.ndarray:
        props, names = ((g.model_props, g.models) if key == "m"
                        else (g.dataset_props, g.datasets))
        vocab = graph.models if key == "m" else graph.datasets
        hot = np.array([[float(n == v) for v in vocab] for n in names]).reshape(len(names), -1)
        return np.concatenate([encoders[key].transform(props), hot], axis=1)

    def design(g: TransferGraph, pairs: np.ndarray) -> np.ndarray:
        return np.concatenate([side(g, "m")[pairs[:, 0]], side(g, "d")[pairs[:, 1]]], axis=1)

    x, y = design(graph, graph.edges), graph.accuracy
    x_mean = x.mean(axis=0)
    xc, yc = x - x_mean, y - y.mean()
    if alpha > 0:
        coef = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ yc)
    else:
        coef = np.linalg.lstsq(xc, yc, rcond=None)[0]
    return design(known, known.all_pairs()) @ coef + y.mean() - x_mean @ coef


def _fewer_datasets(graph: TransferGraph, n: int) -> TransferGraph:
    keep = graph.edges[:, 1] < n
    return TransferGraph(graph.models, graph.datasets[:n], graph.model_props,
                         graph.dataset_props[:n], graph.edges[keep], graph.accuracy[keep])


@pytest.mark.parametrize("alpha", [1.0, 0.01])
@pytest.mark.parametrize("datasets", [7, 3])  # 7: datasets eliminated, 3: models eliminated
def test_linear_identity_is_the_dense_one_hot_ridge(alpha: float, datasets: int) -> None:
    graph = _fewer_datasets(toy_graph(), datasets)
    p = LinearPredictor(alpha=alpha).fit(graph)
    clipped = np.clip(_dense_ridge(graph, alpha), 0, 1)
    np.testing.assert_allclose(p.predict(graph, graph.all_pairs()), clipped, atol=1e-9)
    bigger = with_cold_start(graph)  # new names: their one-hot is zeros, their offset 0
    np.testing.assert_allclose(p.predict(bigger, bigger.all_pairs()),
                               np.clip(_dense_ridge(graph, alpha, bigger), 0, 1), atol=1e-9)
    assert len(p.model_offsets_) == 5 and len(p.dataset_offsets_) == datasets


def test_linear_identity_without_ridge_is_a_least_squares_fit() -> None:
    graph = toy_graph()
    p = LinearPredictor(alpha=0).fit(graph)
    dense = _dense_ridge(graph, 0).reshape(graph.num_models, graph.num_datasets)
    fitted = dense[graph.edges[:, 0], graph.edges[:, 1]]  # unique, unlike the coefficients
    unclipped = p._predict(graph, graph.edges)
    np.testing.assert_allclose(unclipped, fitted, atol=1e-8)


def test_shared_gram_counts_edge_pairs_per_large_id() -> None:
    rng = np.random.default_rng(0)
    small, large = rng.integers(0, 6, 400), rng.integers(0, 30, 400)
    weight = rng.random(30)
    counts = np.zeros((6, 30))
    np.add.at(counts, (small, large), 1.0)
    expected = (counts * weight) @ counts.T
    for chunk in (1, 7, 1 << 22):  # pairs made in small pieces and all at once
        np.testing.assert_allclose(shared_gram(small, large, weight, 6, chunk), expected)
    assert shared_gram(small[:0], large[:0], weight, 6).shape == (6, 6)


def test_linear_predictor_with_default_encoders() -> None:
    graph = toy_graph()
    scores = LinearPredictor().fit(graph).predict(graph, graph.edges)
    assert np.corrcoef(scores, graph.accuracy)[0, 1] > 0.5


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_empty_graph_is_refused(name: str) -> None:
    graph = toy_graph(scores=True).with_edges(np.zeros(len(toy_graph().edges), dtype=bool))
    with pytest.raises(ValueError, match="no observed edges"):
        make_predictor(name, **FAST[name]).fit(graph)


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_bad_pairs_are_refused(name: str) -> None:
    graph = toy_graph(scores=True)
    p = make_predictor(name, **FAST[name]).fit(graph)
    for bad, match in (([[5, 0]], "model index 5"), ([[0, 7]], "dataset index 7"),
                       ([[-1, 0]], "model index -1"), ([[0, 1, 2]], "shape"),
                       ([[0.0, 1.0]], "integer")):
        with pytest.raises(ValueError, match=match):
            p.predict(graph, np.array(bad))
    assert p.predict(graph, np.zeros((0, 2), dtype=np.int64)).shape == (0,)


def test_other_misuse_is_refused() -> None:
    graph = toy_graph()
    with pytest.raises(RuntimeError, match="not fitted"):
        GATPredictor().predict(graph, graph.edges)
    with pytest.raises(ValueError, match="epochs"):
        GATPredictor(epochs=0).fit(graph)
    with pytest.raises(ValueError, match="alpha"):
        LinearPredictor(alpha=-1).fit(graph)
    nan = TransferGraph(graph.models, graph.datasets, graph.model_props, graph.dataset_props,
                        graph.edges, np.where(np.arange(len(graph.edges)) == 0, np.nan,
                                              graph.accuracy))
    with pytest.raises(ValueError, match="NaN"):
        MeanPredictor().fit(nan)
    with pytest.raises(ValueError, match="2-D"):
        GATPredictor(model_features=np.zeros(5)).fit(graph)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_a_gpu_says_so() -> None:
    with pytest.raises(ValueError, match="GPU"):
        GATPredictor(epochs=1, device="cuda").fit(toy_graph())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_and_predict(tmp_path: Path) -> None:
    graph = toy_graph()
    p = GATPredictor(epochs=20, device="cuda").fit(graph)
    scores = p.predict(graph, graph.all_pairs())
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64
    p.save(tmp_path / "gpu.pt")
    on_cpu = Predictor.load(tmp_path / "gpu.pt", device="cpu")
    np.testing.assert_allclose(on_cpu.predict(graph, graph.all_pairs()), scores, atol=1e-5)


# -- acceptance: the paper's data ---------------------------------------------------------

EPOCHS = 200
SPLITS = (0, 1, 2)


def hide_half(graph: TransferGraph, seed: int) -> np.ndarray:
    """Mask of hidden edges: half (rounded down) of each dataset's observed edges."""
    rng = np.random.default_rng(seed)
    hidden = np.zeros(len(graph.edges), dtype=bool)
    for j in range(graph.num_datasets):
        mine = rng.permutation(np.flatnonzero(graph.edges[:, 1] == j))
        hidden[mine[: len(mine) // 2]] = True
    return hidden


def mean_pearson(datasets: np.ndarray, predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean over datasets of Pearson(predicted, true); < 2 entries or constant skipped."""
    values = []
    for j in np.unique(datasets):
        mine = datasets == j
        if mine.sum() < 2 or np.ptp(truth[mine]) == 0 or np.ptp(predicted[mine]) == 0:
            continue
        values.append(pearsonr(predicted[mine], truth[mine]).statistic)
    return float(np.mean(values))


@pytest.mark.slow
def test_scg4trf_beats_the_mean_on_hidden_domainnet_edges(domainnet: Path) -> None:
    graph = from_zoo(graphrec.load(domainnet, loader="domainnet"))
    rows = []
    for split in SPLITS:
        hidden = hide_half(graph, split)
        train = graph.with_edges(~hidden)
        pairs, truth = graph.edges[hidden], graph.accuracy[hidden]
        started = time.perf_counter()
        scg = GATPredictor(epochs=EPOCHS, seed=0).fit(train).predict(train, pairs)
        seconds = time.perf_counter() - started
        mean = MeanPredictor().fit(train).predict(train, pairs)
        rows.append((mean_pearson(pairs[:, 1], scg, truth),
                     mean_pearson(pairs[:, 1], mean, truth), seconds))
        print(f"\nsplit {split}: mean Pearson over datasets, hidden edges only: "
              f"SCG4Trf {rows[-1][0]:.3f} ({EPOCHS} epochs, {seconds:.1f} s fit+predict), "
              f"per-model mean {rows[-1][1]:.3f}")
    scg_avg, mean_avg = np.mean([r[0] for r in rows]), np.mean([r[1] for r in rows])
    print(f"average over {len(SPLITS)} splits: SCG4Trf {scg_avg:.3f}, mean {mean_avg:.3f}")
    # Speed is measured by benchmarks/bench_learning.py, not asserted here.
    assert all(r[0] > r[1] for r in rows)
    assert scg_avg > mean_avg


def test_gat_layer_is_pyg_gatconv() -> None:
    """graphrec's own GAT layer (no PyG import at start-up) is PyG's one-head GATConv: the
    same initial draws under one seed, the same outputs and gradients."""
    from torch_geometric.nn import GATConv

    from graphrec.predict.nn import GATLayer

    torch.manual_seed(3)
    ours = GATLayer(16, 8)
    torch.manual_seed(3)
    theirs = GATConv(16, 8)
    state = theirs.state_dict()
    for key, value in ours.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)
    x = torch.randn(40, 16, requires_grad=True)
    edges = torch.randint(0, 40, (2, 120))
    edges[:, :5] = torch.arange(5)  # some self loops, which both replace with their own
    out_ours, out_theirs = ours(x, edges), theirs(x, edges)
    torch.testing.assert_close(out_ours, out_theirs, rtol=1e-6, atol=1e-6)
    (g_ours,) = torch.autograd.grad(out_ours.square().sum(), x)
    (g_theirs,) = torch.autograd.grad(out_theirs.square().sum(), x)
    torch.testing.assert_close(g_ours, g_theirs, rtol=1e-5, atol=1e-6)


def test_checkpoint_packs_large_plain_values_and_gives_them_back() -> None:
    """Big lists and dicts travel as one JSON tensor (fast to load); what JSON would alter
    (tuples, numpy values) stays as it was."""
    from graphrec.predict import checkpoint

    state = {"names": [f"d{i}" for i in range(1000)],
             "props": [{"domain": "x", "labels": ["a", "b"], "n": i, "f": i / 3}
                       for i in range(300)],
             "seen": {f"d{i}": i % 2 == 0 for i in range(500)},
             "tuples": [(i, i) for i in range(300)], "small": ["a", "b"],
             "tensor": torch.arange(3), "nan": [float("nan")] * 300}
    packed = checkpoint.pack(state)
    assert set(packed["names"]) == {"__graphrec_json__"}
    assert set(packed["seen"]) == {"__graphrec_json__"}
    assert isinstance(packed["tuples"], list) and packed["tuples"][0] == (0, 0)
    assert packed["small"] == ["a", "b"]
    back = checkpoint.unpack(packed)
    for key in ("names", "props", "seen", "tuples", "small"):
        assert back[key] == state[key]
    assert torch.equal(back["tensor"], state["tensor"])
    assert len(back["nan"]) == 300
