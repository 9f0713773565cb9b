"""The held-out-datasets protocol: masks, metrics on hand-computed cases, the zoo folder,
the suite on small zoos, and the `auto` default's choice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr, weightedtau

import graphrec
from graphrec.benchmark import run_benchmark
from graphrec.benchmark.holdout import (
    holdout_mask,
    holdout_metrics,
    recall_at,
    top1_tied,
    weighted_tau,
)
from graphrec.benchmark.inputs import load_matrix
from graphrec.predict.auto import AutoPredictor, inner_splits
from graphrec.predict.base import Predictor
from graphrec.predict.graph import TransferGraph
from graphrec.synth import generate_zoo

from .conftest import write_csv
from .test_cli import ok, run

# -- metrics ------------------------------------------------------------------------------


def test_weighted_tau_is_scipys() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        truth, scores = rng.random(9), rng.random(9)
        assert weighted_tau(truth, scores) == pytest.approx(
            weightedtau(truth, scores).statistic, abs=1e-12)
    # The top counts most: swapping the two best costs more than swapping the two worst.
    truth = np.arange(6.0)
    top = np.array([0, 1, 2, 3, 5, 4.0])
    bottom = np.array([1, 0, 2, 3, 4, 5.0])
    assert weighted_tau(truth, top) < weighted_tau(truth, bottom) < 1.0
    assert np.isnan(weighted_tau(truth, np.ones(6)))
    assert np.isnan(weighted_tau(truth[:1], truth[:1]))


def test_top1_regret_with_ties() -> None:
    truth = np.array([0.9, 0.7, 0.5, 0.8])
    assert top1_tied(truth, np.array([4.0, 3, 2, 1])) == (1.0, 0.0)
    hit, regret = top1_tied(truth, np.array([1.0, 3, 2, 0]))
    assert (hit, regret) == (0.0, pytest.approx(0.2))
    # Two models tied at the top: the mean of picking either.
    hit, regret = top1_tied(truth, np.array([5.0, 5, 1, 0]))
    assert hit == 0.5 and regret == pytest.approx((0.0 + 0.2) / 2)
    # Everything tied: the mean over all.
    assert top1_tied(truth, np.zeros(4))[1] == pytest.approx(0.9 - truth.mean())


def test_recall_at_3() -> None:
    truth = np.array([0.9, 0.1, 0.2, 0.3, 0.4])
    assert recall_at(truth, np.array([5.0, 4, 3, 2, 1])) == 1.0
    assert recall_at(truth, np.array([3.0, 5, 4, 2, 1])) == 1.0  # third
    assert recall_at(truth, np.array([2.0, 5, 4, 3, 1])) == 0.0  # fourth
    # Tied with two others for places 3-5: a one in three chance of making the top 3.
    assert recall_at(truth, np.array([1.0, 5, 4, 1, 1])) == pytest.approx(1 / 3)
    # Two truly best models: the one ranked higher counts.
    assert recall_at(np.array([0.9, 0.9, 0.1, 0.2]), np.array([0.0, 9, 8, 7])) == 1.0


def test_holdout_metrics_by_regime_and_score_subset() -> None:
    truth = np.array([[0.9, 0.5, 0.1], [0.8, 0.6, 0.2], [0.7, 0.7, 0.3], [0.1, 0.8, 0.4]])
    known = np.zeros_like(truth, dtype=bool)
    known[0, 1] = known[0, 2] = True  # datasets 1 and 2 partial, dataset 0 cold
    cold = np.array([True, False, False])
    scores = truth.copy()
    scores[:, 1] = -scores[:, 1]  # dataset 1 ranked backwards
    out = holdout_metrics(truth, known, cold, scores)
    assert out["cold_wtau"] == pytest.approx(1.0) and out["cold_regret"] == 0.0
    assert out["cold_datasets"] == 1 and out["partial_datasets"] == 2
    rho1 = spearmanr(truth[1:, 1], scores[1:, 1]).statistic
    assert out["partial_spearman"] == pytest.approx((rho1 + 1.0) / 2)
    # Dataset 1: the worst hidden model (0.6) ranked first; dataset 2: right.
    assert out["partial_regret"] == pytest.approx(100 * (0.8 - 0.6) / 2)
    assert out["partial_recall3"] == 1.0  # three hidden entries: the best is always in
    assert out["partial_hit"] == pytest.approx(0.5)
    cover = np.ones_like(known)
    cover[3, 0] = False
    sub = holdout_metrics(truth, known, cold, scores, {"logme": cover})
    assert sub["cold_datasets@logme"] == 1 and sub["cold_regret@logme"] == 0.0
    assert sub["partial_wtau"] == out["partial_wtau"]


# -- masks ----------------------------------------------------------------------------------


def test_holdout_mask_design() -> None:
    rng = np.random.default_rng(3)
    observed = rng.random((12, 40)) < 0.8
    observed[:, 0] = False  # a dataset with no entry
    observed[:1, 1] = True  # one with a single entry: never cold
    observed[1:, 1] = False
    known, cold = holdout_mask(5, observed, cold=0.25, hidden=0.5)
    assert not (known & ~observed).any()
    eligible = observed.sum(axis=0) >= 2
    assert cold.sum() == round(0.25 * eligible.sum()) and not cold[~eligible].any()
    assert not known[:, cold].any()
    n = observed.sum(axis=0)
    for j in np.flatnonzero(~cold & (n > 0)):
        assert known[:, j].sum() == n[j] - min(n[j] - 1, round(0.5 * n[j]))
    again = holdout_mask(5, observed, cold=0.25, hidden=0.5)
    assert (again[0] == known).all() and (again[1] == cold).all()
    assert not (holdout_mask(6, observed)[0] == known).all()
    with pytest.raises(ValueError, match="cold must be a fraction"):
        holdout_mask(0, observed, cold=1.5)


def test_inner_splits_hold_every_dataset_out_once_per_repeat() -> None:
    observed = np.random.default_rng(1).random((8, 21)) < 0.9
    knowns, colds = inner_splits(observed, repeats=2, cold=0.25, hidden=0.5, seed=0)
    assert len(knowns) == 8
    eligible = observed.sum(axis=0) >= 2
    for rep in (colds[:4], colds[4:]):
        assert (np.sum(rep, axis=0) == eligible).all()
    for known, cold in zip(knowns, colds, strict=True):
        assert not known[:, cold].any() and not (known & ~observed).any()


# -- the zoo folder -------------------------------------------------------------------------


@pytest.fixture
def small_zoo(tmp_path: Path) -> Path:
    """A synthetic 12 x 60 zoo folder with a proxy score as scores_synthetic.csv."""
    folder = tmp_path / "zoos" / "synthetic"
    generate_zoo(12, 60, 0.9, 0, folder, pair_sd=0.5, score_noise=0.3)
    (folder / "scores.csv").rename(folder / "scores_synthetic.csv")
    return folder


def _long_scores(folder: Path) -> None:
    """generate_zoo writes a wide score matrix: the zoo format wants it long."""
    import csv

    path = folder / "scores_synthetic.csv"
    with path.open() as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["model", "dataset", "value"])
        for row in body:
            for dataset, value in zip(header[1:], row[1:], strict=True):
                writer.writerow([row[0], dataset, value])


def test_ingest_a_zoo_folder(small_zoo: Path, tmp_path: Path) -> None:
    _long_scores(small_zoo)
    db = str(tmp_path / "db")
    out = json.loads(ok("--db", db, "ingest", str(small_zoo), "--json").stdout)
    assert out["loader"] == "zoo" and out["scores"]["created"] == 12 * 60
    stats = json.loads(ok("--db", db, "stats", "--json").stdout)
    assert stats["relationships"]["SCORED"] == 12 * 60
    assert stats["nodes"]["Model"] == 12
    again = json.loads(ok("--db", db, "--", "ingest", "--loader", "zoo", str(small_zoo),
                          "--json").stdout)
    assert again["scores"]["unchanged"] == 12 * 60


def test_zoo_folder_errors_write_nothing(small_zoo: Path, tmp_path: Path) -> None:
    _long_scores(small_zoo)
    with (small_zoo / "scores_synthetic.csv").open("a") as f:
        f.write("m000,no_such_value_here,abc\n")
    db = str(tmp_path / "db")
    result = run("--db", db, "ingest", str(small_zoo), "--json")
    assert result.exit_code == 2, result.stdout
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["file"].endswith("scores_synthetic.csv") and problem["row"] == 12 * 60 + 2
    with graphrec.open(db) as g:
        assert g.stats()["relationships"] == {}
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("--db", db, "ingest", "--loader", "zoo", str(empty))
    assert result.exit_code == 2 and "records.csv" in result.stderr
    write_csv(empty / "records.csv", "model,dataset,accuracy\na,b,0.5\n")
    write_csv(empty / "scores_.csv", "model,dataset,value\na,b,1\n")
    result = run("--db", db, "ingest", str(empty))
    assert result.exit_code == 2 and "scores_<metric>.csv" in result.stderr


# -- the runner, the suite ------------------------------------------------------------------


def test_holdout_benchmark_scores_hidden_entries_and_score_alone(small_zoo: Path) -> None:
    _long_scores(small_zoo)
    graph, _ = load_matrix(small_zoo)
    result = run_benchmark(graph, ["mean", "score:synthetic", "hla"], protocol="holdout",
                           seeds=2)
    assert result.config["cold_datasets"] == [round(0.25 * 60)] * 2
    by = {m.key: m.summary() for m in result.methods}
    # The score follows the true pair effect closely: alone it beats the per-model mean.
    assert by["score:synthetic"]["cold_wtau@synthetic"][0] > by["mean"]["cold_wtau"][0] + 0.2
    assert by["mean"]["cold_datasets"][0] == 15
    text = result.markdown()
    assert "held out whole" in text and "synthetic alone" in text
    with pytest.raises(ValueError, match="no such score"):
        run_benchmark(graph, ["score:leep"], protocol="holdout", seeds=1)
    with pytest.raises(ValueError, match="numbers its repetitions from 0"):
        run_benchmark(graph, ["mean"], first_seed=3)


def test_suite_on_small_zoos(small_zoo: Path, tmp_path: Path) -> None:
    _long_scores(small_zoo)
    other = small_zoo.parent / "no_scores"
    generate_zoo(8, 30, 0.8, 1, other)
    out = tmp_path / "suite-out"
    result = ok("benchmark", "--suite", str(small_zoo.parent), "--seeds", "2", "--methods",
                "mean,score:synthetic,hla,auto", "--out", str(out), "--json")
    data = json.loads(result.stdout)
    assert data["config"]["zoos"] == ["no_scores", "synthetic"]
    assert {r["zoo"] for r in data["summary"]} == {"no_scores", "synthetic"}
    assert sum(data["wins"].values()) >= 8
    for name in ("no_scores", "synthetic"):
        assert (out / name / "holdout.png").stat().st_size > 10_000
        assert (out / name / "results.csv").is_file()
    assert "Summary" in (out / "suite.md").read_text()
    # score:synthetic is absent from the zoo without scores: a clear error.
    assert "no such score" not in result.stdout


def test_benchmark_out_naming_a_file_fails_before_the_run(small_zoo: Path,
                                                          tmp_path: Path) -> None:
    target = write_csv(tmp_path / "taken.txt", "x\n")
    result = run("benchmark", "--data", str(small_zoo), "--protocol", "holdout", "--out",
                 str(target), "--methods", "mean")
    assert result.exit_code == 2 and "this is a file" in result.stderr
    assert target.read_text() == "x\n"
    # Held-out options with the paper's protocol are an error, not ignored.
    result = run("benchmark", "--data", str(small_zoo), "--cold", "0.5", "--methods", "mean")
    assert result.exit_code == 2 and "--protocol holdout" in result.stderr


def test_the_api_and_the_cli_share_the_protocol_defaults(small_zoo: Path,
                                                         tmp_path: Path) -> None:
    from graphrec.api import benchmark
    from graphrec.errors import UsageError

    # A held-out setting with the paper's protocol fails before the data is read.
    with pytest.raises(UsageError, match="held-out protocol"):
        benchmark(tmp_path / "no such folder", hidden=0.3, methods=["mean"])
    _long_scores(small_zoo)
    result = benchmark(small_zoo, protocol="holdout", methods=["mean"])
    assert (result.config["seeds"], result.config["cold"], result.config["hidden"]) == (
        3, 0.25, 0.5)
    cli = json.loads(ok("benchmark", "--data", str(small_zoo), "--protocol", "holdout",
                        "--methods", "mean", "--json").stdout)
    assert cli["config"]["seeds"] == 3 and cli["config"]["epochs"] == 300


# -- the default: auto ----------------------------------------------------------------------


def _graph(small_zoo: Path) -> TransferGraph:
    _long_scores(small_zoo)
    graph, _ = load_matrix(small_zoo)
    known, _ = holdout_mask(0, np.isfinite(graph.matrix()))
    return graph.with_edges(known[graph.edges[:, 0], graph.edges[:, 1]])


def test_auto_is_deterministic_for_a_seed_and_survives_save(small_zoo: Path,
                                                             tmp_path: Path) -> None:
    graph = _graph(small_zoo)
    first = AutoPredictor(candidates=("hla", "linear"), seed=1).fit(graph)
    second = AutoPredictor(candidates=("hla", "linear"), seed=1).fit(graph)
    assert first.selection_ == second.selection_
    pairs = graph.all_pairs()
    np.testing.assert_array_equal(first.predict(graph, pairs), second.predict(graph, pairs))
    first.save(tmp_path / "auto.pt")
    loaded = Predictor.load(tmp_path / "auto.pt")
    np.testing.assert_array_equal(loaded.predict(graph, pairs), first.predict(graph, pairs))
    assert loaded.selection_ == first.selection_


def test_auto_lets_a_reliable_score_dominate_cold_datasets(small_zoo: Path) -> None:
    """The synthetic score sees the pair effect that metadata cannot: on cold datasets the
    choice must put weight on it, and its held-out figures must say why."""
    graph = _graph(small_zoo)
    auto = AutoPredictor(candidates=("hla", "linear")).fit(graph)
    cold = auto.selection_["cold"]
    assert cold["weights"].get("score:synthetic", 0) >= 0.5
    alone = cold["alone"]
    assert alone["score:synthetic"]["wtau"] > alone["hla"]["wtau"]
    assert cold["datasets"] > 20


def test_auto_rejects_bad_options(small_zoo: Path) -> None:
    graph = _graph(small_zoo)
    for kwargs, match in (({"candidates": ("hla", "nope")}, "unknown candidate"),
                          ({"candidates": ()}, "non-empty"), ({"folds": 0}, "folds"),
                          ({"cold": 1.0}, "cold must be"), ({"regret_weight": -1}, "regret")):
        with pytest.raises(ValueError, match=match):
            AutoPredictor(**kwargs).fit(graph)


def test_auto_skips_the_gat_on_graphs_too_big_for_it(small_zoo: Path) -> None:
    """The stacked GAT attends over models x datasets cells: above `max_gat_cells` (or
    `max_gat_edges`) it is skipped, and the selection says so."""
    graph = _graph(small_zoo)
    cells = graph.num_models * graph.num_datasets
    auto = AutoPredictor(candidates=("hla", "scg4trf"), max_gat_cells=cells - 1,
                         epochs=5).fit(graph)
    assert auto.selection_["skipped"] == ["scg4trf"]
    assert "scg4trf" not in auto.selection_["cold"]["weights"]
    assert not auto.cold_start_reads_graph
    with pytest.raises(ValueError, match="max_gat_cells"):
        AutoPredictor(max_gat_cells=-1).fit(graph)


def test_train_records_the_choice(small_zoo: Path, tmp_path: Path) -> None:
    _long_scores(small_zoo)
    db = str(tmp_path / "db")
    ok("--db", db, "ingest", str(small_zoo))
    text = ok("--db", db, "train").stdout
    assert "datasets with no history:" in text and "held-out weighted tau" in text
    assert "80% intervals, from held-out errors of this graph" in text
    record = json.loads(ok("--db", db, "train", "--no-intervals", "--json").stdout)
    assert "interval_coverage" not in record
    assert record["model"] == "auto"
    selection = record["selection"]  # a map, not JSON text
    assert set(selection["cold"]["weights"]) <= set(selection["candidates"])
    assert "datasets with some history:" in ok("--db", db, "status").stdout


def test_quick_suite_on_the_published_zoos(zoos: Path, tmp_path: Path) -> None:
    """The three published zoos, one repetition, the cheap methods: every zoo is found and
    read (scores included), and the summary covers both regimes of each."""
    data = json.loads(ok("benchmark", "--suite", str(zoos), "--seeds", "1", "--methods",
                         "mean,linear,hla,score:logme", "--json").stdout)
    assert data["config"]["zoos"] == ["medmnist_sources", "openclip_zeroshot",
                                      "transfergraph_nlp_full"]
    nlp = data["zoos"]["transfergraph_nlp_full"]
    assert nlp["config"]["scores"] == ["logme", "reg_hscore"]
    assert [m["key"] for m in nlp["methods"]] == ["mean", "linear", "hla", "score:logme"]
    assert [m["key"] for m in data["zoos"]["openclip_zeroshot"]["methods"]] == [
        "mean", "linear", "hla"]  # no scores there: the score method is skipped
    assert data["summary"] == []  # the default (auto) was not asked for: nothing to compare
    assert sum(data["wins"].values()) >= 3 * 2 * 2  # every zoo x regime x metric has a best
