"""Predictions as versions: one served set, switched only when complete; list, use, drop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import graphrec
from graphrec.cli import main
from graphrec.predict import workflow
from graphrec.predict.versions import new_version

from .conftest import synth_db


@pytest.fixture
def zoo_db(tmp_path: Path) -> str:
    return synth_db(tmp_path, 8, 40, 0.5, 1)[0]


def _cli(db: str, *args: str):
    return CliRunner().invoke(main, ["--db", db, *args])


def _sets(g: graphrec.Graphrec) -> dict[tuple[str, str], int]:
    """{(predictor, version): predicted edges}."""
    rows = g.store.run("MATCH ()-[p:PREDICTED]->() RETURN p.predictor AS p, p.version AS v, "
                       "count(*) AS n")
    return {(r["p"], r["v"]): r["n"] for r in rows}


def _served(g: graphrec.Graphrec, dataset: str) -> dict[str, float]:
    return {r["model"]: r["score"] for r in g.recommend(dataset, k=100)
            if r["source"] == "predicted"}


def test_two_train_predict_cycles_leave_one_set_and_train_says_current(zoo_db: str) -> None:
    for model in ("mean", "hla"):
        trained = _cli(zoo_db, "train", "--model", model)
        assert trained.exit_code == 0, trained.output
        assert "is now the current predictor" in trained.stdout
        assert _cli(zoo_db, "predict").exit_code == 0
    with graphrec.open(zoo_db) as g:
        sets = _sets(g)
        records = g.predictors()
        status = g.status()
    assert len(sets) == 1, f"exactly one set of predictions, got {sets}"
    (predictor, version), count = next(iter(sets.items()))
    current = [r for r in records if r["current"]]
    assert [r["id"] for r in current] == [predictor] and current[0]["model"] == "hla"
    assert current[0]["version"] == version and current[0]["predicted"] == count
    assert status["predicted"] == count and status["version"] == version
    older = next(r for r in records if not r["current"])
    assert older["predicted"] == 0, "the replaced predictor's set is gone"


def test_a_partial_version_is_never_served_and_the_next_run_removes_it(zoo_db: str) -> None:
    with graphrec.open(zoo_db) as g:
        record = g.train("mean")
        g.predict()
        dataset = g.store.run("MATCH (d:Dataset) RETURN d.name AS n ORDER BY n LIMIT 1")[0]["n"]
        before = _served(g, dataset)
        status = g.status()
        # What a `predict` killed after its first batch leaves: edges of a version that
        # was never finished (written the way predict writes them, with other scores).
        graph = workflow.read_graph(g.store)
        pairs = np.array([[m, graph.dataset_index(dataset)] for m in range(graph.num_models)])
        observed = {tuple(e) for e in graph.edges.tolist()}
        pairs = np.array([p for p in pairs.tolist() if tuple(p) not in observed])
        workflow.write_predictions(g.store, graph, pairs, np.full(len(pairs), 0.999),
                                   record["id"], new_version())
        assert len(_sets(g)) == 2
        assert _served(g, dataset) == before, "recommend reads only the complete version"
        assert g.status()["predicted"] == status["predicted"]
        assert g.status()["version"] == status["version"]
        g.predict()
        assert len(_sets(g)) == 1, "the finished run removes the killed run's edges"
        assert _served(g, dataset) == pytest.approx(before)


def test_a_killed_predict_leaves_the_previous_set_served(tmp_path: Path) -> None:
    """A real `graphrec predict` process killed with SIGKILL at some point of its run: the
    served set is always a complete one, and the next run leaves exactly one."""
    db, _ = synth_db(tmp_path, 40, 1500, 0.2, 2)
    with graphrec.open(db) as g:
        g.train("mean")
        first = g.predict()
        dataset = g.store.run("MATCH (d:Dataset) RETURN d.name AS n ORDER BY n DESC "
                              "LIMIT 1")[0]["n"]
        before = _served(g, dataset)
        g.train("hla")  # current now, with no predictions of its own yet
    env = {**os.environ, "GRAPHREC_DB": db, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "graphrec.cli", "predict", "--keep"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with graphrec.open(db) as g:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if sum(n for (p, _), n in _sets(g).items() if p != first["predictor"]):
                break  # the new set is being written
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        records = {r["id"]: r for r in g.predictors()}
        hla = next(r for r in records.values() if r["model"] == "hla")
        if hla.get("version") is None:  # killed before it finished: nothing of it is read
            assert _served(g, dataset) == {}
            assert g.status()["predicted"] == 0
            g.use_predictor(first["predictor"])
            assert _served(g, dataset) == before, "the previous set is intact"
            g.use_predictor(hla["id"])
        g.predict()
        sets = _sets(g)
    assert len(sets) == 1 and next(iter(sets))[0] == hla["id"]


def test_predictors_list_use_drop_from_the_command_line(zoo_db: str) -> None:
    ids = []
    for model in ("mean", "hla"):
        ids.append(json.loads(_cli(zoo_db, "train", "--model", model, "--json").stdout)["id"])
        assert _cli(zoo_db, "predict", "--keep").exit_code == 0
    listed = json.loads(_cli(zoo_db, "predictors", "list", "--json").stdout)
    assert [r["id"] for r in listed] == ids[::-1]
    assert [r["current"] for r in listed] == [True, False]
    assert all(r["predicted"] > 0 for r in listed), "--keep kept the first set"
    table = _cli(zoo_db, "predictors", "list").stdout
    assert ids[0] in table and ids[1] in table and "*" in table
    with graphrec.open(zoo_db) as g:
        dataset = g.store.run("MATCH (d:Dataset) RETURN d.name AS n ORDER BY n LIMIT 1")[0]["n"]
    used = _cli(zoo_db, "predictors", "use", ids[0])
    assert used.exit_code == 0 and "now the current predictor" in used.stdout
    shown = json.loads(_cli(zoo_db, "recommend", dataset, "--k", "50", "--json").stdout)
    assert {r["predictor"] for r in shown if r["source"] == "predicted"} == {ids[0]}
    assert json.loads(_cli(zoo_db, "status", "--json").stdout)["predictor"]["id"] == ids[0]
    checkpoint = Path(listed[1]["checkpoint"])
    dropped = _cli(zoo_db, "predictors", "drop", ids[0], "--json")
    assert dropped.exit_code == 0, dropped.output
    result = json.loads(dropped.stdout)
    assert result["was_current"] and result["current"] == ids[1]
    assert result["predicted_edges_deleted"] == listed[1]["predicted"]
    assert not checkpoint.exists()
    with graphrec.open(zoo_db) as g:
        assert {p for p, _ in _sets(g)} == {ids[1]}
        assert [r["id"] for r in g.predictors()] == [ids[1]]
    for bad in (("use", "nope"), ("drop", "nope")):
        result = _cli(zoo_db, "predictors", *bad)
        assert result.exit_code == 2 and "predictors list" in result.stderr


def test_predict_stream_prints_rows_and_writes_nothing(zoo_db: str) -> None:
    assert _cli(zoo_db, "train", "--model", "mean").exit_code == 0
    with graphrec.open(zoo_db) as g:
        before = g.dump()
    streamed = _cli(zoo_db, "predict", "--stream", "--top-k", "2", "--json")
    assert streamed.exit_code == 0, streamed.output
    rows = [json.loads(line) for line in streamed.stdout.splitlines()]
    per_dataset: dict[str, list[float]] = {}
    for r in rows:
        per_dataset.setdefault(r["dataset"], []).append(r["score"])
    assert per_dataset and all(len(v) <= 2 and v == sorted(v, reverse=True)
                               for v in per_dataset.values())
    csv_out = _cli(zoo_db, "predict", "--stream", "--top-k", "2").stdout.splitlines()
    assert csv_out[0] == "model,dataset,score,low,high" and len(csv_out) == len(rows) + 1
    with graphrec.open(zoo_db) as g:
        assert g.dump() == before
    written = json.loads(_cli(zoo_db, "predict", "--top-k", "2", "--json").stdout)
    assert written["predicted"] == len(rows)
    assert _cli(zoo_db, "predict", "--stream", "--keep").exit_code == 2


def test_status_sees_writes_made_while_training_read_the_graph(zoo_db: str,
                                                               tmp_path: Path) -> None:
    """Staleness compares when each write happened with when training read the graph, not
    with when training finished: an ingest that ran during a long fit makes it stale."""
    more = tmp_path / "more.csv"
    with graphrec.open(zoo_db) as g:
        record = g.train("mean")
        g.predict()
        assert g.status()["stale"] is False
        assert record["read_at"] <= record["created_at"]
        model = g.store.run("MATCH (m:Model) RETURN m.name AS n LIMIT 1")[0]["n"]
        more.write_text(f"model,dataset,accuracy\n{model},a_new_dataset,0.5\n")
        g.ingest(more)
        # As if the fit had finished only now, after the ingest's write.
        g.store.run("MATCH (p:Predictor {id: $id}) SET p.created_at = $late",
                    {"id": record["id"], "late": "9999-01-01T00:00:00+00:00"}, write=True)
        status = g.status()
    assert status["stale"] is True and status["last_observed_change"] > record["read_at"]


def test_predict_with_workers_writes_what_one_process_writes(
        zoo_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def scores(g: graphrec.Graphrec) -> dict[tuple[str, str], float]:
        return {(r["m"], r["d"]): r["s"] for r in g.store.run(
            "MATCH (m:Model)-[p:PREDICTED]->(d:Dataset) RETURN m.name AS m, d.name AS d, "
            "p.score AS s")}

    with graphrec.open(zoo_db) as g:
        g.train("hla")
        one = g.predict(top_k=3)
        alone = scores(g)
    monkeypatch.setattr(workflow, "PAIRS_PER_CHUNK", 16)  # 2 datasets a chunk: 20 chunks
    result = _cli(zoo_db, "predict", "--top-k", "3", "--workers", "3", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["predicted"] == one["predicted"] == len(alone)
    with graphrec.open(zoo_db) as g:
        assert len(_sets(g)) == 1, "one complete version, the earlier one replaced"
        assert scores(g) == pytest.approx(alone)
        assert g.status()["predicted"] == len(alone)
    assert _cli(zoo_db, "predict", "--workers", "0").exit_code == 2
    assert _cli(zoo_db, "predict", "--stream", "--workers", "2").exit_code == 2


def _json_inside_strings(value, path: str = "") -> list[str]:
    """Paths of string values that are themselves JSON maps or lists."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _json_inside_strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _json_inside_strings(v, f"{path}[{i}]")]
    if isinstance(value, str) and value[:1] in "[{":
        try:
            json.loads(value)
        except ValueError:
            return []
        return [path]
    return []


def test_predictor_records_hold_no_json_text(zoo_db: str) -> None:
    """The Predictor node keeps hyperparameters, score metrics and auto's selection as JSON
    text (a property holds no map); every reader gets them decoded."""
    trained = json.loads(_cli(zoo_db, "train", "--model", "auto", "--no-intervals",
                              "--json").output)
    assert isinstance(trained["hyperparameters"], dict)
    assert isinstance(trained["score_metrics"], list)
    assert isinstance(trained["selection"], dict)
    outputs = {"train": trained,
               "status": json.loads(_cli(zoo_db, "status", "--json").output),
               "predictors": json.loads(_cli(zoo_db, "predictors", "list", "--json").output)}
    with graphrec.open(zoo_db) as g:
        outputs["api"] = g.predictors()
        stored = g.store.run("MATCH (p:Predictor) RETURN p.hyperparameters AS h")[0]["h"]
    assert isinstance(stored, str) and json.loads(stored) == trained["hyperparameters"]
    for name, value in outputs.items():
        assert _json_inside_strings(value) == [], name
