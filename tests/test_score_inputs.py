"""Proxy scores as predictor inputs: the graph, the pair features, the predictors and the
benchmark's with/without-scores variants. No database here (see test_score_store.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import graphrec
from graphrec.benchmark import run_benchmark
from graphrec.benchmark.runner import matrix_graph, sample_datasets
from graphrec.predict.base import Predictor
from graphrec.predict.graph import TransferGraph
from graphrec.predict.pair_scores import PairScores, select_metrics
from graphrec.predict.registry import make_predictor
from graphrec.synth import generate_zoo


def _graph(scores: dict | None = None, edges: np.ndarray | None = None) -> TransferGraph:
    models = ["m0", "m1", "m2"]
    datasets = ["d0", "d1"]
    if edges is None:
        edges = np.array([[0, 0], [1, 0], [2, 0], [0, 1]])
    acc = np.linspace(0.5, 0.9, len(edges))
    return TransferGraph(models, datasets, [{"name": m} for m in models],
                         [{"name": d, "domain": "real"} for d in datasets], edges, acc,
                         scores or {})


# -- the graph ------------------------------------------------------------------------------

def test_scores_are_checked_when_the_graph_is_built() -> None:
    with pytest.raises(ValueError, match="outside the model or dataset lists"):
        _graph({"logme": (np.array([[3, 0]]), np.array([1.0]))})
    with pytest.raises(ValueError, match="2 pairs but 1 values"):
        _graph({"logme": (np.array([[0, 0], [1, 0]]), np.array([1.0]))})
    with pytest.raises(ValueError, match="1 logme scores are NaN"):
        _graph({"logme": (np.array([[0, 0]]), np.array([np.nan]))})


def test_score_values_look_pairs_up_and_survive_masking() -> None:
    graph = _graph({"leep": (np.array([[2, 1], [0, 0]]), np.array([-1.5, -0.5]))})
    got = graph.score_values("leep", np.array([[0, 0], [2, 1], [1, 1]]))
    np.testing.assert_array_equal(got, [-0.5, -1.5, np.nan])
    assert np.isnan(graph.score_values("logme", np.array([[0, 0]]))).all()
    masked = graph.with_edges(np.array([True, False, False, False]))
    assert len(masked.edges) == 1
    np.testing.assert_array_equal(masked.scores["leep"][1], [-1.5, -0.5])


def test_pair_features_are_z_scores_within_each_dataset() -> None:
    pairs = np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1]])
    values = np.array([1.0, 2.0, 3.0, 10.0, 10.0])  # d1's scores do not vary
    graph = _graph({"logme": (pairs, values)})
    feats = PairScores(["logme"]).transform(graph, graph.all_pairs())
    assert feats.shape == (6, 1)
    # all_pairs is model-major: (m0,d0) (m0,d1) (m1,d0) (m1,d1) (m2,d0) (m2,d1)
    z = np.array([-1.0, 2.0 / 3.0 - 2.0 / 3.0, 0.0, 0.0, 1.0, 0.0]) * np.sqrt(1.5)
    np.testing.assert_allclose(feats[:, 0], z, atol=1e-12)
    # Shifting and scaling one dataset's scores changes nothing: only the order matters.
    shifted = _graph({"logme": (pairs, np.r_[values[:3] * 7 - 100, values[3:]])})
    np.testing.assert_allclose(PairScores(["logme"]).transform(shifted, shifted.all_pairs()),
                               feats, atol=1e-12)
    assert PairScores(["logme"]).dense(graph).shape == (3, 2, 1)


def test_select_metrics() -> None:
    graph = _graph({"logme": (np.array([[0, 0]]), np.array([1.0])),
                    "leep": (np.array([[0, 0]]), np.array([1.0]))})
    assert select_metrics(graph, True) == ["leep", "logme"]
    assert select_metrics(graph, False) == []
    assert select_metrics(graph, "logme") == ["logme"]
    with pytest.raises(ValueError, match=r"no such SCORED edges.*has: leep, logme"):
        select_metrics(graph, ["nce"])


@pytest.mark.parametrize("name", ["linear", "hla", "scg4trf"])
def test_bad_use_scores_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="use_scores must be"):
        make_predictor(name, use_scores=3).fit(_graph())


# -- predictors ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zoo_graph(tmp_path_factory: pytest.TempPathFactory) -> TransferGraph:
    """A complete 12 x 120 synthetic zoo with large pair effects that metadata cannot
    explain, and a proxy score for every pair that sees them through noise."""
    out = tmp_path_factory.mktemp("zoo")
    generate_zoo(12, 120, 1.0, 3, out, pair_sd=0.6, score_noise=0.3)
    zoo = graphrec.load(out / "records.csv", models=out / "models.csv",
                        datasets=out / "datasets.csv", scores=out / "scores.csv",
                        metric="synthetic")
    return matrix_graph(zoo)


FAST = {"scg4trf": {"epochs": 60}, "linear": {}, "hla": {"iterations": 5}}


@pytest.mark.parametrize("name", ["linear", "hla", "scg4trf"])
def test_without_scores_nothing_changes(name: str, zoo_graph: TransferGraph) -> None:
    """use_scores on a graph without scores, and use_scores=False on one with them, give
    exactly what the predictor gave before scores existed."""
    bare = TransferGraph(zoo_graph.models, zoo_graph.datasets, zoo_graph.model_props,
                         zoo_graph.dataset_props, zoo_graph.edges, zoo_graph.accuracy)
    train = bare.with_edges(np.arange(len(bare.edges)) % 3 != 0)
    pairs = bare.all_pairs()
    base = make_predictor(name, use_scores=True, **FAST[name]).fit(train).predict(bare, pairs)
    off = make_predictor(name, use_scores=False, **FAST[name])
    off.fit(zoo_graph.with_edges(np.arange(len(bare.edges)) % 3 != 0))
    np.testing.assert_array_equal(off.predict(zoo_graph, pairs), base)
    assert off.scores_used == []


@pytest.mark.parametrize("name", ["linear", "hla", "scg4trf"])
def test_scores_reach_cold_start_datasets(name: str, zoo_graph: TransferGraph,
                                          tmp_path: Path) -> None:
    """A dataset with no known entry is ranked by its scores when the predictor reads them,
    and a saved predictor reads them the same way after loading."""
    cold = np.arange(zoo_graph.num_datasets) % 4 == 0
    train = zoo_graph.with_edges(~cold[zoo_graph.edges[:, 1]])
    truth = zoo_graph.matrix()
    score = np.full_like(truth, np.nan)
    pairs, values = zoo_graph.scores["synthetic"]
    score[pairs[:, 0], pairs[:, 1]] = values
    rhos = {}
    for use in (False, True):
        predictor = make_predictor(name, use_scores=use, **FAST[name]).fit(train)
        pred = predictor.predict(zoo_graph, zoo_graph.all_pairs()).reshape(truth.shape)
        rhos[use] = np.mean([_spearman(truth[:, j], pred[:, j]) for j in np.flatnonzero(cold)])
        if use:
            assert predictor.scores_used == ["synthetic"]
            predictor.save(tmp_path / "p.pt")
            again = Predictor.load(tmp_path / "p.pt")
            np.testing.assert_allclose(
                again.predict(zoo_graph, zoo_graph.all_pairs()).reshape(truth.shape), pred,
                rtol=1e-6, atol=1e-7)
            assert again.scores_used == ["synthetic"]
    assert rhos[True] > rhos[False] + 0.05, rhos


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(stats.spearmanr(a, b).statistic)


def test_proxy_predictor_ranks_by_the_score(zoo_graph: TransferGraph) -> None:
    predictor = make_predictor("proxy").fit(zoo_graph)
    pred = predictor.predict(zoo_graph, zoo_graph.all_pairs()).reshape(12, 120)
    pairs, values = zoo_graph.scores["synthetic"]
    score = np.zeros((12, 120))
    score[pairs[:, 0], pairs[:, 1]] = values
    for j in range(0, 120, 17):
        assert _spearman(score[:, j], pred[:, j]) == pytest.approx(1.0)
    assert np.all((pred > 0) & (pred < 1))
    with pytest.raises(ValueError, match="no proxy scores"):
        make_predictor("proxy").fit(_graph())


# -- benchmark -------------------------------------------------------------------------------

def test_benchmark_with_and_without_scores(zoo_graph: TransferGraph) -> None:
    """The issue's claim, on a zoo whose scores follow accuracy: with scores, every
    predictor does better on cold-start datasets, in the same run on the same masks."""
    methods = ["linear", "linear+scores", "hla", "hla+scores", "scg4trf", "scg4trf+scores",
               "proxy"]
    result = run_benchmark(zoo_graph, methods, seeds=2, masks="seeded", epochs=80)
    cold = {m.key: m.summary()["cold"][0] for m in result.methods}
    for base in ("linear", "hla", "scg4trf"):
        assert cold[f"{base}+scores"] > cold[base] + 0.05, cold
    assert result.config["scores"] == ["synthetic"]
    assert "+ proxy scores" in result.markdown()


def test_score_methods_need_scores(zoo_graph: TransferGraph) -> None:
    bare = TransferGraph(zoo_graph.models, zoo_graph.datasets, zoo_graph.model_props,
                         zoo_graph.dataset_props, zoo_graph.edges, zoo_graph.accuracy)
    with pytest.raises(ValueError, match=r"hla\+scores read proxy scores.*--scores FILE"):
        run_benchmark(bare, ["hla", "hla+scores"], seeds=1)
    from graphrec.benchmark.methods import default_methods

    assert "hla+scores" not in default_methods(False)
    assert {"hla+scores", "proxy", "scg4trf+scores"} <= set(default_methods(False, True))


def test_sampling_datasets_keeps_their_scores(zoo_graph: TransferGraph) -> None:
    small = sample_datasets(zoo_graph, 30, seed=1)
    pairs, values = small.scores["synthetic"]
    assert len(pairs) == 12 * 30 and pairs[:, 1].max() == 29
    name = small.datasets[pairs[5, 1]]
    model = small.models[pairs[5, 0]]
    original = zoo_graph.score_values(
        "synthetic", np.array([[zoo_graph.model_index(model), zoo_graph.dataset_index(name)]]))
    assert values[5] == original[0]


# -- synthetic zoo -----------------------------------------------------------------------------

def test_synthetic_scores_follow_accuracy(tmp_path: Path) -> None:
    summary = generate_zoo(6, 40, 0.5, 1, tmp_path, score_noise=0.2, pair_sd=0.5)
    lines = summary.files["scores"].read_text().splitlines()
    header = lines[0].split(",")
    assert header[0] == "model" and len(header) == 41 and len(lines) == 7
    zoo = graphrec.load(tmp_path / "records.csv", models=tmp_path / "models.csv",
                        datasets=tmp_path / "datasets.csv", scores=summary.files["scores"],
                        metric="synthetic")
    assert len(zoo.scores) == 6 * 40  # every pair, observed or not
    graph = matrix_graph(zoo)
    got = graph.score_values("synthetic", graph.edges)
    # Within datasets (scores have a scale of their own per dataset), they follow accuracy.
    rho = [_spearman(graph.accuracy[graph.edges[:, 1] == j], got[graph.edges[:, 1] == j])
           for j in range(40) if (graph.edges[:, 1] == j).sum() >= 4]
    assert np.mean(rho) > 0.6
    with pytest.raises(ValueError, match="over 20,000,000 cells"):
        generate_zoo(5000, 5000, 0.01, 1, tmp_path / "big", score_noise=0.2)
    with pytest.raises(ValueError, match="score_noise must be a number >= 0"):
        generate_zoo(5, 5, 0.5, 1, tmp_path / "bad", score_noise=-1)


def test_records_are_unchanged_by_the_score_options(tmp_path: Path) -> None:
    generate_zoo(5, 30, 0.4, 2, tmp_path / "a")
    generate_zoo(5, 30, 0.4, 2, tmp_path / "b", pair_sd=0.15)
    assert (tmp_path / "a/records.csv").read_bytes() == (tmp_path / "b/records.csv").read_bytes()
    assert not (tmp_path / "a/scores.csv").exists()


def test_benchmark_help_names_every_method() -> None:
    from click.testing import CliRunner

    from graphrec.benchmark.methods import METHODS
    from graphrec.cli import main

    text = " ".join(CliRunner().invoke(main, ["benchmark", "--help"]).stdout.split())
    missing = [k for k in METHODS if k not in text]
    assert not missing, missing
