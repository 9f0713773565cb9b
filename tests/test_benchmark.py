"""`graphrec benchmark`: stacked training, the baselines, the runner and the command.

The quick mode (2 repetitions, 50 epochs) runs on the paper's data; the full protocol and
its timing are `benchmarks/bench_paper.py`'s job.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import graphrec
from graphrec.benchmark import matrix_graph, run_benchmark
from graphrec.benchmark.masks import seeded_mask
from graphrec.cli import main
from graphrec.predict.baselines import MatrixCompletionPredictor, MeanPredictor, RandomPredictor
from graphrec.predict.gat import G4TrfPredictor, GATPredictor
from graphrec.predict.graph import TransferGraph

from .test_predictors import toy_graph


def _splits(graph: TransferGraph, n: int) -> list[TransferGraph]:
    observed = np.isfinite(graph.matrix())
    out = []
    for r in range(n):
        known = seeded_mask(r, observed, fractions=(0.9, 0.6, 0.3))
        out.append(graph.with_edges(known[graph.edges[:, 0], graph.edges[:, 1]]))
    return out


# -- every copy trained together is the copy trained alone ----------------------------------

@pytest.mark.parametrize("cls", [GATPredictor, G4TrfPredictor])
def test_stacked_training_matches_separate_fits(cls) -> None:
    graph = toy_graph()
    splits = _splits(graph, 3)
    stacked = cls(epochs=30).fit_predict_many(splits, seeds=[4, 5, 6], snapshots=[10, 30])
    assert stacked.shape == (2, 3, graph.num_models, graph.num_datasets)
    for r, split in enumerate(splits):
        for k, epochs in enumerate((10, 30)):
            alone = cls(epochs=epochs, seed=4 + r).fit(split)
            expected = alone.predict(split, split.all_pairs()).reshape(stacked.shape[2:])
            np.testing.assert_allclose(stacked[k, r], expected, atol=2e-5)
    # Different seeds and masks really give different copies.
    assert not np.allclose(stacked[1, 0], stacked[1, 1])


def test_stacked_training_with_scores_matches_separate_fits() -> None:
    """The decoders' pair inputs (proxy scores) are stacked like every other parameter."""
    base = toy_graph()
    rng = np.random.default_rng(0)
    pairs = base.all_pairs()
    graph = TransferGraph(base.models, base.datasets, base.model_props, base.dataset_props,
                          base.edges, base.accuracy,
                          {"logme": (pairs, rng.normal(size=len(pairs))),
                           "leep": (pairs[::2], rng.normal(size=len(pairs[::2])))})
    splits = _splits(graph, 2)
    stacked = GATPredictor(epochs=20).fit_predict_many(splits, seeds=[1, 2])
    for r, split in enumerate(splits):
        alone = GATPredictor(epochs=20, seed=1 + r).fit(split)
        assert alone.scores_used == ["leep", "logme"]
        expected = alone.predict(split, split.all_pairs()).reshape(stacked.shape[2:])
        np.testing.assert_allclose(stacked[0, r], expected, atol=2e-5)
    plain = GATPredictor(epochs=20, use_scores=False).fit_predict_many(splits, seeds=[1, 2])
    assert not np.allclose(plain, stacked, atol=1e-3)  # the scores were read


def test_stacked_training_checks_its_inputs() -> None:
    graph = toy_graph()
    with pytest.raises(ValueError, match=r"epoch counts in 1\.\.5"):
        GATPredictor(epochs=5).fit_predict_many([graph], snapshots=[6])
    with pytest.raises(ValueError, match="one seed per graph"):
        GATPredictor(epochs=5).fit_predict_many([graph, graph], seeds=[1])
    other = toy_graph()
    other.datasets = [*other.datasets[1:], other.datasets[0]]
    with pytest.raises(ValueError, match="same models and datasets"):
        GATPredictor(epochs=5).fit_predict_many([graph, other])


def test_default_fit_predict_many_is_fit_then_predict() -> None:
    graph = toy_graph()
    splits = _splits(graph, 2)
    for predictor in (MeanPredictor(), MatrixCompletionPredictor(rank=2),
                      RandomPredictor(seed=3)):
        many = predictor.fit_predict_many(splits, seeds=[3, 3], snapshots=[1, 2])
        for r, split in enumerate(splits):
            twin = type(predictor)(**predictor.get_config()).fit(split)
            expected = twin.predict(split, split.all_pairs()).reshape(many.shape[2:])
            assert np.array_equal(many[0, r], expected) and np.array_equal(many[1, r], expected)


# -- baselines ------------------------------------------------------------------------------

def test_matrix_completion_recovers_a_low_rank_matrix() -> None:
    rng = np.random.default_rng(0)
    truth = 0.6 + 0.1 * rng.normal(size=(15, 2)) @ rng.normal(size=(2, 80))
    models, datasets = [f"m{i}" for i in range(15)], [f"d{j}" for j in range(80)]
    pairs = np.array([(i, j) for i in range(15) for j in range(80)])
    known = rng.random(len(pairs)) < 0.5
    graph = TransferGraph(models, datasets, [{"name": n} for n in models],
                          [{"name": n} for n in datasets], pairs[known],
                          truth[pairs[known, 0], pairs[known, 1]])
    hidden = pairs[~known]
    target = truth[hidden[:, 0], hidden[:, 1]]

    def error(predictor) -> float:
        return float(np.sqrt(np.mean((predictor.fit(graph).predict(graph, hidden) - target)
                                     ** 2)))

    mc = error(MatrixCompletionPredictor(rank=2, shrink=0.0, max_iter=500))
    mean = error(MeanPredictor())
    assert mc < 0.25 * mean, (mc, mean)


def test_random_scores_stay_in_the_known_range() -> None:
    graph = toy_graph()
    scores = RandomPredictor(seed=1).fit(graph).predict(graph, graph.all_pairs())
    assert scores.min() >= graph.accuracy.min() and scores.max() <= graph.accuracy.max()
    again = RandomPredictor(seed=1).fit(graph).predict(graph, graph.all_pairs())
    assert np.array_equal(scores, again)
    assert np.corrcoef(scores[: len(graph.edges)], graph.accuracy)[0, 1] < 0.9


# -- the runner -----------------------------------------------------------------------------

def test_matrix_graph_keeps_the_records_order(domainnet: Path) -> None:
    zoo = graphrec.load(domainnet, loader="domainnet")
    graph = matrix_graph(zoo)
    rows = (domainnet / "record_domainnet_10_270.csv").read_text().splitlines()
    assert graph.models == [line.split(",")[0] for line in rows[1:]]
    assert graph.datasets == rows[0].split(",")[1:]
    first = rows[1].split(",")
    assert graph.matrix()[0, :3] == pytest.approx([float(v) for v in first[1:4]])


def test_runner_on_a_synthetic_matrix_with_gaps() -> None:
    rng = np.random.default_rng(2)
    m, d = 6, 40
    models, datasets = [f"m{i}" for i in range(m)], [f"d{j}" for j in range(d)]
    pairs = np.array([(i, j) for i in range(m) for j in range(d)])
    pairs = pairs[rng.random(len(pairs)) < 0.8]
    acc = 0.3 + 0.08 * pairs[:, 0] + 0.01 * rng.normal(size=len(pairs))
    graph = TransferGraph(models, datasets, [{"name": n} for n in models],
                          [{"name": n} for n in datasets], pairs, acc)
    result = run_benchmark(graph, ["random", "mean", "mc"], seeds=3)
    assert result.config["masks"] == "seeded" and not result.paper_shape
    by = {r.key: r.summary() for r in result.methods}
    assert by["mean"]["spearman_unknown"][0] > 0.9  # the models' order is all there is
    assert by["mean"]["top1_hit"][0] > by["random"]["top1_hit"][0]
    assert "not shown" in result.markdown()
    with pytest.raises(ValueError, match="complete matrix"):
        run_benchmark(graph, ["mean"], seeds=2, masks="authors")
    with pytest.raises(ValueError, match="unknown method"):
        run_benchmark(graph, ["mean", "nope"], seeds=2)
    with pytest.raises(ValueError, match="need --model-features"):
        run_benchmark(graph, ["scg4trf-given"], seeds=2)


# -- the command ----------------------------------------------------------------------------

def test_quick_benchmark_on_the_paper_data(domainnet: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    res = CliRunner().invoke(main, ["benchmark", "--data", str(domainnet), "--seeds", "2",
                                    "--epochs", "50", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["config"]["masks"] == "authors" and data["config"]["avg_epochs"] == 50
    keys = [m["key"] for m in data["methods"]]
    assert keys == ["random", "mean", "mc", "lr", "linear", "g4trf", "scg4trf", "g4trf-given",
                    "scg4trf-given", "hla", "auto"]
    summary = {m["key"]: m["summary"] for m in data["methods"]}
    for key in keys:
        assert len(next(m for m in data["methods"] if m["key"] == key)["repetitions"]) == 2
        for metric in ("avg", "cold", "spearman_unknown", "top1_hit", "ndcg3"):
            assert -1.0 <= summary[key][metric]["mean"] <= 1.0
    # Even in quick mode the learnt methods are far from chance and above popularity.
    assert summary["random"]["avg"]["mean"] < 0.35
    for key in ("mc", "linear", "scg4trf", "scg4trf-given"):
        assert summary[key]["avg"]["mean"] > summary["mean"]["avg"]["mean"] + 0.1, key
    assert summary["scg4trf-given"]["cold"]["mean"] > 0.5
    # The default predictor beats the paper's method.
    assert summary["hla"]["avg"]["mean"] > summary["scg4trf-given"]["avg"]["mean"] + 0.02
    for name in ("results.json", "results.csv", "repetitions.csv", "table.md", "buckets.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "buckets.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "table.md").read_text()
    assert "*SCG4Trf (paper)*" in table
    assert "*authors' script (published figure, paper.md; not run here)*" in table
    assert len((out / "repetitions.csv").read_text().splitlines()) == 1 + 2 * len(keys)


def test_benchmark_reads_the_database(tmp_path: Path) -> None:
    db = str(tmp_path / "db")
    zoo = tmp_path / "zoo"
    runner = CliRunner()
    assert runner.invoke(main, ["synth", "--models", "6", "--datasets", "60", "--density", "0.9",
                                "--out", str(zoo)]).exit_code == 0
    assert runner.invoke(main, ["--db", db, "ingest", str(zoo / "records.csv"), "--models",
                                str(zoo / "models.csv"), "--datasets",
                                str(zoo / "datasets.csv")]).exit_code == 0
    res = runner.invoke(main, ["--db", db, "benchmark", "--methods", "mean,scg4trf",
                               "--seeds", "2", "--epochs", "5"])
    assert res.exit_code == 0, res.output
    assert "| **SCG4Trf** |" in res.output and "seeded masks" in res.output
    # The same zoo from its files: the folder's loader is detected.
    res = runner.invoke(main, ["benchmark", "--data", str(zoo), "--methods", "mean",
                               "--seeds", "2", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["config"]["shape"] == [6, 60]


@pytest.mark.parametrize("args, message", [
    (["--methods", "mean,bogus"], "unknown method(s) bogus"),
    (["--methods", " , "], "--methods is empty"),
    (["--seeds", "11", "--masks", "authors"], "defines 10 repetitions"),
    (["--epochs", "10", "--avg-epochs", "20"], "avg_epochs must lie in 1..epochs"),
])
def test_benchmark_usage_errors(domainnet: Path, args: list[str], message: str) -> None:
    res = CliRunner().invoke(main, ["benchmark", "--data", str(domainnet), *args])
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_benchmark_input_errors(domainnet: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["benchmark", "--data", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "no such file or folder" in res.output
    res = runner.invoke(main, ["benchmark", "--data", str(tmp_path)])
    assert res.exit_code == 2 and "cannot tell which loader" in res.output
    short = tmp_path / "short.npy"
    np.save(short, np.zeros((3, 4)))
    res = runner.invoke(main, ["benchmark", "--data", str(domainnet), "--model-features",
                               str(short), "--dataset-features", str(short)])
    assert res.exit_code == 2 and "3 rows, but the matrix has 10 models" in res.output
    res = runner.invoke(main, ["benchmark", "--data", str(domainnet), "--model-features",
                               str(short)])
    assert res.exit_code == 2 and "give both" in res.output


def test_a_zoo_too_large_to_score_densely_asks_for_a_sample(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import graphrec.benchmark.runner as runner_module

    zoo = tmp_path / "zoo"
    runner = CliRunner()
    assert runner.invoke(main, ["synth", "--models", "6", "--datasets", "80", "--density", "0.9",
                                "--out", str(zoo)]).exit_code == 0
    # As if memory allowed only about 40 datasets' scores (6 models, 2 repetitions).
    monkeypatch.setattr(runner_module, "MAX_SCORE_BYTES", 2 * 8 * 2 * 6 * 40)
    args = ["benchmark", "--data", str(zoo), "--methods", "mean", "--seeds", "2"]
    res = runner.invoke(main, args)
    assert res.exit_code == 2, res.output
    assert "--max-datasets 40" in res.output
    res = runner.invoke(main, [*args, "--max-datasets", "30", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["config"]["shape"] == [6, 30] and "sample of 30" in data["config"]["source"]
