"""`graphrec explain` (terms that add up, a blend's parts, similar datasets) and
`graphrec plot` (the matrix and one dataset), through the real CLI and database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import graphrec
from graphrec.cli import main

from .conftest import module_env, synth_db


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("explain")
    with module_env(folder):
        db, _ = synth_db(folder, 6, 40, 0.4, 5)
        with graphrec.open(db) as g:
            g.train("auto", coverage=None)
            g.predict()
            pair = g.store.run("MATCH (m:Model)-[:TRANSFERS_TO]->(d:Dataset) "
                               "RETURN m.name AS m, d.name AS d ORDER BY d, m LIMIT 1")[0]
        yield db, pair["d"], pair["m"]


def _cli(db: str, *args: str):
    return CliRunner().invoke(main, ["--db", db, *args])


def test_the_terms_add_up_to_the_prediction(zoo) -> None:
    db, dataset, _ = zoo
    with graphrec.open(db) as g:
        models = [r["name"] for r in g.store.run("MATCH (m:Model) RETURN m.name AS name")]
    for model in models:
        result = _cli(db, "explain", dataset, model, "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert sum(t["value"] for t in data["terms"]) == pytest.approx(data["score"], abs=1e-9)
        assert [t["term"] for t in data["terms"]][:3] == ["zoo average", "model effect",
                                                          "dataset effect"]
        assert data["low"] is None  # trained without intervals
        parts = {c["part"] for c in data["components"]}
        assert parts and parts <= {"hla", "linear", "scg4trf"} | {
            c["part"] for c in data["components"] if c["part"].startswith("score:")}


def test_explain_matches_what_recommend_predicts(zoo) -> None:
    db, dataset, _ = zoo
    rows = json.loads(_cli(db, "recommend", dataset, "--k", "6", "--json").output)
    predicted = next(r for r in rows if r["source"] == "predicted")
    data = json.loads(_cli(db, "explain", dataset, predicted["model"], "--json").output)
    assert data["score"] == pytest.approx(predicted["score"], abs=1e-6)
    assert data["observed"] is None


def test_similar_datasets_are_measured_ones_most_alike_first(zoo) -> None:
    db, dataset, model = zoo
    data = json.loads(_cli(db, "explain", dataset, model, "--k", "4", "--json").output)
    similar = data["similar"]
    assert 0 < len(similar) <= 4 and data["observed"] is not None
    shared = [r["shared_labels"] for r in similar]
    assert shared == sorted(shared, reverse=True)
    with graphrec.open(db) as g:
        for r in similar:
            assert r["dataset"] != dataset
            edge = g.store.run("MATCH (:Model {name: $m})-[t:TRANSFERS_TO]->(:Dataset "
                               "{name: $d}) RETURN t.accuracy AS a", {"m": model,
                                                                     "d": r["dataset"]})
            assert edge == [{"a": r["accuracy"]}]
    table = _cli(db, "explain", dataset, model)
    assert "= prediction" in table.output and "most like" in table.output


def test_plots_are_written(zoo, tmp_path: Path) -> None:
    db, dataset, _ = zoo
    matrix = tmp_path / "m.png"
    result = _cli(db, "plot", "matrix", "--out", str(matrix), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["models"] == 6 and info["datasets"] == 40 and info["predicted"] > 0
    assert matrix.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and matrix.stat().st_size > 10_000
    one = tmp_path / "d.svg"
    assert _cli(db, "plot", "dataset", dataset, "--out", str(one)).exit_code == 0
    assert b"<svg" in one.read_bytes()[:400]


@pytest.mark.parametrize("args, words", [
    (["explain", "nope", "x"], ["no dataset named 'nope'"]),
    (["explain", "{dataset}", "resnet_999"], ["no model named"]),
    (["explain", "{dataset}", "{model}", "--k", "0"], ["0"]),
    (["explain", "{dataset}", "{model}", "--predictor", "missing"], ["missing"]),
    (["plot", "matrix", "--out", "{tmp}/m.jpg"], [".png, .svg or .pdf"]),
    (["plot", "matrix", "--out", "{tmp}"], ["is a folder"]),
    (["plot", "matrix", "--out", "{tmp}/no/such/m.png"], ["does not exist"]),
    (["plot", "dataset", "nope", "--out", "{tmp}/d.png"], ["no dataset named 'nope'"]),
    (["plot", "dataset", "{dataset}"], ["--out"]),
])
def test_bad_inputs_are_usage_errors(zoo, tmp_path: Path, args: list[str],
                                     words: list[str]) -> None:
    db, dataset, model = zoo
    with graphrec.open(db) as g:
        before = g.dump()
    filled = [a.format(dataset=dataset, model=model, tmp=tmp_path) for a in args]
    result = _cli(db, *filled)
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output
    with graphrec.open(db) as g:
        assert g.dump() == before


def test_suggest_names_only_unmeasured_models_best_first(zoo) -> None:
    db, dataset, _ = zoo
    result = _cli(db, "suggest", dataset, "--budget", "3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    with graphrec.open(db) as g:
        measured = {r["m"] for r in g.store.run(
            "MATCH (m:Model)-[:TRANSFERS_TO]->(:Dataset {name: $d}) RETURN m.name AS m",
            {"d": dataset})}
    picks = data["picks"]
    assert 1 <= len(picks) <= 3 and data["measured"] == len(measured)
    assert not {p["model"] for p in picks} & measured
    assert [p["score"] for p in picks] == sorted((p["score"] for p in picks), reverse=True)
    assert all(p["reason"] for p in picks)


def test_suggest_across_the_zoo_never_names_a_measured_pair(zoo) -> None:
    db, _, _ = zoo
    data = json.loads(_cli(db, "suggest", "--budget", "10", "--json").output)
    with graphrec.open(db) as g:
        measured = {(r["m"], r["d"]) for r in g.store.run(
            "MATCH (m:Model)-[:TRANSFERS_TO]->(d:Dataset) RETURN m.name AS m, d.name AS d")}
    pairs = [(p["model"], p["dataset"]) for p in data["picks"]]
    assert len(pairs) == 10 and not set(pairs) & measured
    gains = [p["expected_improvement"] for p in data["picks"]]
    assert gains == sorted(gains, reverse=True)


def test_suggest_with_intervals_says_its_chances(tmp_path: Path) -> None:
    db, _ = synth_db(tmp_path, 5, 20, 0.5, 2)
    assert _cli(db, "train", "--model", "linear").exit_code == 0
    assert _cli(db, "predict").exit_code == 0
    with graphrec.open(db) as g:
        dataset = g.store.run("MATCH (:Model)-[:TRANSFERS_TO]->(d:Dataset) "
                              "RETURN d.name AS d LIMIT 1")[0]["d"]
    data = json.loads(_cli(db, "suggest", dataset, "--budget", "2", "--json").output)
    for p in data["picks"]:
        assert 0 <= p["p_beats_best"] <= 1 and p["expected_improvement"] >= 0
        assert p["low"] <= p["score"] <= p["high"]


@pytest.mark.parametrize("args, words", [
    (["suggest", "nope"], ["no dataset named 'nope'"]),
    (["suggest", "{dataset}", "--budget", "0"], ["0"]),
    (["suggest", "--budget", "4294967296"], ["4294967296"]),
    (["suggest", "{dataset}", "--predictor", "missing"], ["missing"]),
])
def test_suggest_bad_inputs(zoo, args: list[str], words: list[str]) -> None:
    db, dataset, _ = zoo
    with graphrec.open(db) as g:
        before = g.dump()
    result = _cli(db, *[a.format(dataset=dataset) for a in args])
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output
    with graphrec.open(db) as g:
        assert g.dump() == before
