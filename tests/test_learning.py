"""Train, predict and recommend through the database and the CLI."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import graphrec
from graphrec.cli import main
from graphrec.predict import workflow

from .conftest import synth_db, write_csv


@pytest.fixture
def zoo_db(tmp_path: Path) -> tuple[str, object]:
    return synth_db(tmp_path, 8, 40, 0.5, 1)


def _cli(db: str, *args: str):
    result = CliRunner().invoke(main, ["--db", db, *args])
    return result


def _observed(g: graphrec.Graphrec) -> list:
    return sorted((r["from_name"], r["to_name"], json.dumps(r["properties"], sort_keys=True))
                  for r in g.query("admin/dump-relationships") if r["type"] == "TRANSFERS_TO")


def test_train_predict_recommend(zoo_db) -> None:
    db, _ = zoo_db
    with graphrec.open(db) as g:
        before = _observed(g)
        record = workflow.train(g.store, "mean")
        assert record["trained_on_edges"] == len(before)
        assert Path(record["checkpoint"]).exists()
        summary = workflow.predict(g.store)
        assert summary["predicted"] == 8 * 40 - len(before)
        counts = g.stats()["relationships"]
        assert counts["PREDICTED"] == summary["predicted"]
        assert _observed(g) == before, "observed edges are never touched"
        overlap = g.store.run("MATCH (m)-[:PREDICTED]->(d) WHERE (m)-[:TRANSFERS_TO]->(d) "
                              "RETURN count(*) AS n")
        assert overlap == [{"n": 0}]
        # Predicting again replaces, never duplicates.
        workflow.predict(g.store)
        assert g.stats()["relationships"]["PREDICTED"] == summary["predicted"]
        name = g.store.run("MATCH (d:Dataset) RETURN d.name AS n ORDER BY n LIMIT 1")[0]["n"]
        rows = workflow.recommend(g.store, name, k=8)
    assert len(rows) == 8
    sources = {r["source"] for r in rows}
    assert sources <= {"observed", "predicted"}
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert all(r["predictor"] == record["id"] for r in rows if r["source"] == "predicted")
    assert all(r["predictor"] is None for r in rows if r["source"] == "observed")


def test_top_k_keeps_the_best_per_dataset(zoo_db) -> None:
    db, _ = zoo_db
    with graphrec.open(db) as g:
        workflow.train(g.store, "mean")
        workflow.predict(g.store, top_k=2)
        per_dataset = g.store.run("MATCH (:Model)-[p:PREDICTED]->(d:Dataset) "
                                  "RETURN d.name AS d, count(p) AS n")
        assert per_dataset and max(r["n"] for r in per_dataset) <= 2


def test_unknown_dataset_suggests_names(zoo_db) -> None:
    db, _ = zoo_db
    with graphrec.open(db) as g:
        name = g.store.run("MATCH (d:Dataset) RETURN d.name AS n ORDER BY n LIMIT 1")[0]["n"]
    result = _cli(db, "recommend", name + "x")
    assert result.exit_code == 2
    assert f"no dataset named '{name}x'" in result.stderr
    assert name in result.stderr  # the close name is offered


@pytest.mark.parametrize("args, expected", [(["--model", "scg4trf", "--epochs", "5"], "scg4trf"),
                                            ([], "auto")])
def test_cli_train_then_recommend(zoo_db, args: list[str], expected: str) -> None:
    db, _ = zoo_db
    trained = _cli(db, "train", *args, "--json")
    assert trained.exit_code == 0, trained.output
    record = json.loads(trained.stdout)
    assert record["model"] == expected and record["trained_on_edges"] > 0
    predicted = _cli(db, "predict", "--json")
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.stdout)["predictor"] == record["id"]
    with graphrec.open(db) as g:
        name = g.store.run("MATCH (d:Dataset) RETURN d.name AS n ORDER BY n LIMIT 1")[0]["n"]
    shown = _cli(db, "recommend", name, "--k", "3")
    assert shown.exit_code == 0, shown.output
    assert "observed" in shown.stdout or "predicted" in shown.stdout


def test_bad_arguments_change_nothing(zoo_db) -> None:
    db, _ = zoo_db
    with graphrec.open(db) as g:
        before = g.dump()
    assert _cli(db, "predict").exit_code == 2  # no predictor yet
    assert _cli(db, "train", "--model", "nope").exit_code == 2
    assert _cli(db, "predict", "--predictor", "missing").exit_code == 2
    assert _cli(db, "predict", "--top-k", "0").exit_code == 2
    with graphrec.open(db) as g:
        assert g.dump() == before


def test_train_on_an_empty_graph_is_a_usage_error(tmp_path: Path) -> None:
    result = _cli(str(tmp_path / "db"), "train")
    assert result.exit_code == 2
    assert "no observed edges" in result.stderr


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def test_paper_data_hidden_half_beats_the_mean(tmp_path: Path, domainnet: Path) -> None:
    """The issue's acceptance check, through the database: ingest half of each dataset's
    edges, train SCG4Trf briefly, predict, and compare with the hidden half."""
    with open(domainnet / "record_domainnet_10_270.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    datasets, models = rows[0][1:], [r[0] for r in rows[1:]]
    rng = random.Random(0)
    known, hidden = [], {}
    for j, d in enumerate(datasets):
        order = list(range(len(models)))
        rng.shuffle(order)
        for rank, i in enumerate(order):
            acc = float(rows[i + 1][j + 1])
            if rank < len(models) // 2:
                known.append((models[i], d, acc))
            else:
                hidden[(models[i], d)] = acc
    matrix = [["", *datasets]] + [[m] + [""] * len(datasets) for m in models]
    for m, d, acc in known:
        matrix[models.index(m) + 1][datasets.index(d) + 1] = str(acc)
    folder = tmp_path / "half"
    folder.mkdir()
    for name in ("source_model_meta_data.csv", "target_dataset_meta_data.csv"):
        (folder / name).write_bytes((domainnet / name).read_bytes())
    write_csv(folder / "record_domainnet_10_270.csv",
              "\n".join(",".join(r) for r in matrix) + "\n")

    figures = {}
    for model in ("mean", "scg4trf"):
        db = str(tmp_path / f"db-{model}")
        with graphrec.open(db) as g:
            g.ingest(folder, loader="domainnet")
            # the mean takes no options: an option it does not take is an error
            workflow.train(g.store, model, **({"epochs": 300, "seed": 0}
                                              if model == "scg4trf" else {}))
            workflow.predict(g.store)
            scores = {(r["m"], r["d"]): r["s"] for r in g.store.run(
                "MATCH (m:Model)-[p:PREDICTED]->(d:Dataset) RETURN m.name AS m, d.name AS d, "
                "p.score AS s")}
        assert set(scores) == set(hidden)
        per_dataset = []
        for d in datasets:
            keys = [k for k in hidden if k[1] == d]
            r = _pearson(np.array([hidden[k] for k in keys]), np.array([scores[k] for k in keys]))
            if r is not None:
                per_dataset.append(r)
        figures[model] = float(np.mean(per_dataset))
    print(f"\nmean per-dataset Pearson on hidden edges: {figures}")
    assert figures["scg4trf"] > figures["mean"]


def _scores(g: graphrec.Graphrec) -> dict:
    return {(r["m"], r["d"]): r["s"] for r in g.store.run(
        "MATCH (m:Model)-[p:PREDICTED]->(d:Dataset) RETURN m.name AS m, d.name AS d, "
        "p.score AS s")}


def test_same_seed_same_predictions_and_checkpoint_round_trip(zoo_db) -> None:
    db, _ = zoo_db
    with graphrec.open(db) as g:
        first = workflow.train(g.store, "scg4trf", epochs=20, seed=3)
        workflow.predict(g.store, first["id"])
        a = _scores(g)
        # The checkpoint alone reproduces the predictions (a new process would load it too).
        workflow.predict(g.store, first["id"])
        assert _scores(g) == a
        second = workflow.train(g.store, "scg4trf", epochs=20, seed=3)
        workflow.predict(g.store, second["id"], keep=True)  # both sets stay
        by_predictor: dict[str, dict] = {}
        for r in g.store.run("MATCH (m:Model)-[p:PREDICTED]->(d:Dataset) RETURN m.name AS m, "
                             "d.name AS d, p.predictor AS p, p.score AS s"):
            by_predictor.setdefault(r["p"], {})[(r["m"], r["d"])] = r["s"]
    assert first["id"] != second["id"]
    assert by_predictor[first["id"]] == by_predictor[second["id"]] == a


def _same_ranking(got: list[dict], want: list[dict]) -> None:
    """The same models in the same order with the same scores (FalkorDB keeps 15 digits;
    the GAT computes in float32)."""
    assert [(r["model"], r["source"]) for r in got] == [(r["model"], r["source"]) for r in want]
    assert [r["score"] for r in got] == pytest.approx([r["score"] for r in want], rel=1e-6)


COLD = ["--domain", "sketch", "--num-classes", "4", "--samples-per-class", "10",
        "--labels", "cat,dog,car,tree", "--k", "50", "--json"]


@pytest.mark.parametrize("model", ["hla", "auto"])
def test_cold_start_from_the_command_line(zoo_db, model: str) -> None:
    db, _ = zoo_db
    epochs = ["--epochs", "10"] if model == "auto" else []  # hla has no epochs
    assert _cli(db, "train", "--model", model, *epochs).exit_code == 0
    assert _cli(db, "predict").exit_code == 0
    with graphrec.open(db) as g:
        before = g.dump()
        models = g.stats()["nodes"]["Model"]
    result = _cli(db, "recommend", "brand_new", *COLD)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == models, "every model gets a score for the new dataset"
    assert all(r["source"] == "predicted" and 0.0 <= r["score"] <= 1.0 for r in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    with graphrec.open(db) as g:
        assert g.dump() == before, "without --save, a cold start writes nothing"
        # The API derives the training set size from classes x samples per class too.
        api = g.recommend("brand_new", 50, metadata={
            "domain": "sketch", "num_classes": 4, "samples_per_class": 10,
            "labels": ["cat", "dog", "car", "tree"]})
    _same_ranking(api, rows)
    # --save stores it, with its predictions in the served set, scored as in memory.
    saved = _cli(db, "recommend", "brand_new", *COLD, "--save")
    assert saved.exit_code == 0, saved.output
    assert json.loads(saved.stdout) == rows
    with graphrec.open(db) as g:
        node = g.store.run("MATCH (d:Dataset {name: 'brand_new'})-[:IN_DOMAIN]->(x) "
                           "RETURN properties(d) AS p, x.name AS domain")[0]
    assert node["domain"] == "sketch"
    assert node["p"]["train_size"] == 40 and node["p"]["labels"] == ["cat", "dog", "car", "tree"]
    stored = json.loads(_cli(db, "recommend", "brand_new", "--k", "50", "--json").stdout)
    _same_ranking(stored, rows)
    # Scored from the models alone, it matches a `predict` that reads the whole graph.
    assert _cli(db, "predict").exit_code == 0
    _same_ranking(json.loads(_cli(db, "recommend", "brand_new", "--k", "50", "--json").stdout),
                  rows)
    # A second time, it exists: describe-and-add is refused, plain recommend works.
    refused = _cli(db, "recommend", "brand_new", "--domain", "sketch")
    assert refused.exit_code == 2 and "already in the graph" in refused.stderr


def test_cold_start_warns_about_metadata_the_graph_has_never_seen(zoo_db) -> None:
    db, _ = zoo_db
    assert _cli(db, "train", "--model", "hla").exit_code == 0
    with graphrec.open(db) as g:
        domains = g.stats()["nodes"]["Domain"]
        label = g.store.run("MATCH (l:Label) RETURN l.name AS n ORDER BY n LIMIT 1")[0]["n"]
    typo = _cli(db, "recommend", "new_one", "--domain", "sketchh", "--labels", "zzz,qqq")
    assert typo.exit_code == 0, typo.output
    assert "domain 'sketchh' is in no dataset" in typo.stderr
    assert "close names: sketch" in typo.stderr
    assert "none of the labels" in typo.stderr
    known = _cli(db, "recommend", "new_two", "--domain", "sketch", "--labels", f"{label},zzz")
    assert known.exit_code == 0 and "warning" not in known.stderr
    with graphrec.open(db) as g:
        assert g.stats()["nodes"]["Domain"] == domains, "a typo creates no Domain"
    assert _cli(db, "recommend", "x", "--save").exit_code == 2  # --save needs metadata


def test_status_says_when_predictions_are_stale(zoo_db, tmp_path: Path) -> None:
    db, _ = zoo_db
    empty = json.loads(_cli(db, "status", "--json").stdout)
    assert empty["predictor"] is None and empty["observed"] > 0
    assert _cli(db, "train", "--model", "mean").exit_code == 0
    assert _cli(db, "predict").exit_code == 0
    fresh = json.loads(_cli(db, "status", "--json").stdout)
    assert fresh["stale"] is False and fresh["predicted"] > 0
    with graphrec.open(db) as g:
        name = g.store.run("MATCH (d:Dataset) RETURN d.name AS n ORDER BY n LIMIT 1")[0]["n"]
        model = g.store.run("MATCH (m:Model) RETURN m.name AS n ORDER BY n LIMIT 1")[0]["n"]
    records = write_csv(tmp_path / "more.csv", f"model,dataset,accuracy\n{model},{name},0.123\n")
    assert _cli(db, "ingest", str(records)).exit_code == 0
    stale = json.loads(_cli(db, "status", "--json").stdout)
    assert stale["stale"] is True
    assert "stale" in _cli(db, "status").stdout


def test_an_option_the_predictor_does_not_take_is_an_error(zoo_db) -> None:
    db, _ = zoo_db
    with graphrec.open(db) as g:
        before = g.dump()
    result = _cli(db, "train", "--model", "mean", "--epochs", "5")
    assert result.exit_code == 2 and "'mean' does not take --epochs" in result.output
    assert "takes no options" in result.output
    result = _cli(db, "train", "--model", "linear", "--device", "cuda", "--seed", "3")
    assert result.exit_code == 2, result.output
    assert "--device, --seed" in result.output and "alpha" in result.output
    with graphrec.open(db) as g:
        with pytest.raises(graphrec.UsageError, match="does not take --device, --epochs"):
            g.train("hla", epochs=7, device="cuda", seed=3)
        assert g.dump() == before
    assert _cli(db, "train", "--model", "hla", "--seed", "3", "--no-intervals").exit_code == 0
