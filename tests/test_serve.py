"""`graphrec serve`: a real uvicorn server on loopback over a real embedded database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

import graphrec
from graphrec.api import Graphrec
from graphrec.cli import main
from graphrec.predict import workflow
from graphrec.serve import GraphrecServer, create_app, is_loopback

from .conftest import REPO, module_env, write_csv


@dataclass
class Served:
    db: Path
    client: httpx.Client

    def open(self) -> Graphrec:
        """A second user of the same database, to check the server's answers against."""
        return graphrec.open(str(self.db))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """4 models x 4 datasets, 6 observed pairs, a `mean` predictor with its predictions,
    served by uvicorn in a thread on a free loopback port."""
    folder = tmp_path_factory.mktemp("serve")
    with module_env(folder):
        records = write_csv(folder / "in" / "records.csv", "model,dataset,accuracy\n"
                            "r18,sketch_a,0.60\nr50,sketch_a,0.80\nvit_b,sketch_a,0.70\n"
                            "r18,sketch_b,0.50\nvit_b,sketch_b,0.50\nr18,photo_a,0.90\n")
        models = write_csv(folder / "in" / "models.csv", "name,family,params\n"
                           "r18,resnet,11\nr50,resnet,25\nvit_b,vit,86\nvit_l,vit,304\n")
        datasets = write_csv(folder / "in" / "datasets.csv", "name,domain,labels\n"
                             "sketch_a,sketch,cat;dog\nsketch_b,sketch,cat;emu\n"
                             "photo_a,photo,cat;dog\nphoto_b,photo,owl\n")
        db = folder / "db"
        with graphrec.open(str(db)) as g:
            g.ingest(records, models=models, datasets=datasets)
            g.train("mean")
            g.predict()
        server = GraphrecServer(uvicorn.Config(create_app(str(db)), host="127.0.0.1", port=0,
                                               log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started and server.url, "the server did not start"
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                yield Served(db, client)
        finally:
            server.should_exit = True
            thread.join(30)
        assert not thread.is_alive()
        # The lifespan closed the store: as its last user, it stopped the embedded server.
        assert not (db / "falkordb" / "server.json").exists()


def test_health(served: Served) -> None:
    response = served.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_status_is_the_workflow_status(served: Served) -> None:
    response = served.client.get("/status")
    assert response.status_code == 200
    body = response.json()
    with served.open() as g:
        expected = json.loads(json.dumps(workflow.status(g.store)))
    assert body == expected
    assert body["predictor"]["model"] == "mean"
    assert body["observed"] >= 6 and body["predicted"] >= 10
    assert body["stale"] is False or body["observed"] > 6


def test_recommend_known_dataset(served: Served) -> None:
    response = served.client.get("/recommend", params={"dataset": "sketch_a", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["dataset"] == "sketch_a"
    assert [(r["model"], r["source"]) for r in body["rows"]] == [
        ("r50", "observed"), ("vit_b", "observed"), ("vit_l", "predicted")]
    assert body["rows"][0] == {"model": "r50", "family": "resnet", "source": "observed",
                               "score": 0.8, "low": None, "high": None, "runs": 1,
                               "std": None, "min": 0.8, "max": 0.8, "predictor": None}
    with served.open() as g:
        assert body["rows"][2]["predictor"] == workflow.get_predictor(g.store)["id"]
        assert body["rows"] == g.recommend("sketch_a", 3)
    every = served.client.get("/recommend", params={"dataset": "sketch_a"}).json()["rows"]
    assert [r["model"] for r in every] == ["r50", "vit_b", "vit_l", "r18"]  # k=5 by default


def test_recommend_unknown_dataset_is_404_with_close_names(served: Served) -> None:
    response = served.client.get("/recommend", params={"dataset": "sketch_c"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert "no dataset named 'sketch_c'" in error
    assert "sketch_a" in error and "sketch_b" in error
    assert "POST /recommend with its metadata" in error and "--domain" not in error


@pytest.mark.parametrize("k", ["0", "10001", "abc", "2.5", "-1"])
def test_recommend_bad_k_is_422(served: Served, k: str) -> None:
    response = served.client.get("/recommend", params={"dataset": "sketch_a", "k": k})
    assert response.status_code == 422
    body = response.json()
    assert "k must be an integer between 1 and 10000" in body["error"]
    assert body["problems"][0]["column"] == "k" and body["problems"][0]["file"] == "query"


def test_recommend_limits_and_other_usage_errors(served: Served) -> None:
    assert served.client.get("/recommend", params={"dataset": "sketch_a",
                                                   "k": 10000}).status_code == 200
    missing = served.client.get("/recommend")
    assert missing.status_code == 422 and "dataset" in missing.json()["error"]
    unknown = served.client.get("/recommend", params={"dataset": "sketch_a",
                                                      "predictor": "nope"})
    assert unknown.status_code == 422
    assert unknown.json() == {"error": "no predictor 'nope' in this database; "
                                       "`graphrec predictors list` names the ones there are"}


def test_cold_start_returns_every_model_or_k(served: Served) -> None:
    body = {"dataset": "new_sketches", "k": 10, "predictor": None,
            "metadata": {"domain": "sketch", "num_classes": 2, "samples_per_class": 30,
                         "labels": ["cat", "dog"]}}
    response = served.client.post("/recommend", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["dataset"] == "new_sketches"
    assert sorted(r["model"] for r in data["rows"]) == ["r18", "r50", "vit_b", "vit_l"]
    assert {r["source"] for r in data["rows"]} == {"predicted"}
    assert all(isinstance(r["score"], float) for r in data["rows"])
    assert isinstance(data["warnings"], list)
    two = served.client.post("/recommend", json={**body, "dataset": "new_photos", "k": 2})
    assert two.status_code == 200 and len(two.json()["rows"]) == 2


def test_cold_start_warns_and_stores_only_when_asked(served: Served) -> None:
    body = {"dataset": "comics_1", "k": 3, "metadata": {"domain": "sketchh"}}
    with served.open() as g:
        before = g.dump()
    for _ in range(2):  # the same warning is reported every time
        response = served.client.post("/recommend", json=body)
        assert response.status_code == 200, response.text
        [warning] = response.json()["warnings"]
        assert "domain 'sketchh' is in no dataset" in warning and "sketch" in warning
        assert len(response.json()["rows"]) == 3
    with served.open() as g:
        assert g.dump() == before, "a cold start without save writes nothing"
    saved = served.client.post("/recommend", json={**body, "dataset": "comics_2",
                                                   "metadata": {"domain": "sketch"},
                                                   "save": True})
    assert saved.status_code == 200 and saved.json()["warnings"] == []
    known = served.client.get("/recommend", params={"dataset": "comics_2", "k": 3})
    assert known.status_code == 200
    assert [r["model"] for r in known.json()["rows"]] == [
        r["model"] for r in saved.json()["rows"]]


@pytest.mark.parametrize(("body", "words"), [
    ({"dataset": "x", "metadata": {"domain": "sketch", "colour": "red"}},
     ["'colour'", "domain, num_classes, samples_per_class, train_size, labels"]),
    ({"dataset": "x", "metadata": {"num_classes": "5"}}, ["metadata.num_classes"]),
    ({"dataset": "x", "metadata": {"labels": "cat,dog"}}, ["metadata.labels"]),
    ({"dataset": "x", "metadata": {"num_classes": 0}}, ["metadata.num_classes"]),
    ({"dataset": "x", "k": 0, "metadata": {"domain": "sketch"}}, ["k must be an integer"]),
    ({"dataset": "x", "metadata": {}}, ["at least one of domain"]),
    ({"dataset": "", "metadata": {"domain": "sketch"}}, ["dataset"]),
    ({"metadata": {"domain": "sketch"}}, ["dataset"]),
    ({"dataset": "x", "metadata": {"domain": "a"}, "store": True}, ["'store'", "predictor"]),
])
def test_cold_start_rejects_a_bad_body(served: Served, body: dict, words: list[str]) -> None:
    response = served.client.post("/recommend", json=body)
    assert response.status_code == 422, response.text
    for word in words:
        assert word in response.json()["error"]


def test_cold_start_of_a_known_dataset_is_422(served: Served) -> None:
    response = served.client.post("/recommend", json={"dataset": "sketch_a",
                                                      "metadata": {"domain": "sketch"}})
    assert response.status_code == 422
    assert "sketch_a" in response.json()["error"]


def test_post_records_then_recommend_shows_them_observed(served: Served) -> None:
    before = {r["model"]: r for r in served.client.get(
        "/recommend", params={"dataset": "sketch_b", "k": 10}).json()["rows"]}
    assert before["r50"]["source"] == "predicted"
    response = served.client.post("/records", json={"records": [
        {"model": "r50", "dataset": "sketch_b", "accuracy": 0.95, "epochs": 10,
         "pretrained": True},
        {"model": "r50", "dataset": "sketch_b", "accuracy": 0.85, "epochs": 10},
        {"model": "vit_l", "dataset": "photo_b", "accuracy": "0.75", "note": None},
    ]})
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["transfers"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert summary["record_rows"] == 3
    after = {r["model"]: r for r in served.client.get(
        "/recommend", params={"dataset": "sketch_b", "k": 10}).json()["rows"]}
    assert after["r50"]["source"] == "observed"
    assert after["r50"]["score"] == pytest.approx(0.9)  # two runs: their mean
    with served.open() as g:
        edge = g.store.run("MATCH (:Model {name: 'r50'})-[t:TRANSFERS_TO]->"
                           "(:Dataset {name: 'sketch_b'}) RETURN properties(t) AS p")[0]["p"]
    assert edge["runs"] == 2 and edge["epochs"] == 10 and edge["source"] == "POST /records"
    assert edge["pretrained"] == ["true", ""]  # per run, as from a CSV's cells
    again = served.client.post("/records", json={"records": [
        {"model": "vit_l", "dataset": "photo_b", "accuracy": 75}], "accuracy_unit": "percent"})
    assert again.json()["transfers"] == {"created": 0, "updated": 0, "unchanged": 1}


def test_post_invalid_records_is_422_and_writes_nothing(served: Served) -> None:
    with served.open() as g:
        before = g.dump()
    response = served.client.post("/records", json={"records": [
        {"model": "r18", "dataset": "photo_b", "accuracy": 0.5},       # fine on its own
        {"model": "r18", "dataset": "photo_b", "accuracy": "abc"},
        {"model": "", "dataset": "photo_b", "accuracy": 0.5},
        {"model": "r50", "dataset": "photo_b", "accuracy": 87},
        {"model": "r50", "dataset": "photo_a", "accuracy": [0.5]},
    ]})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "4 problems found in the input; nothing was written"
    located = [(p["file"], p["row"], p["column"]) for p in body["problems"]]
    assert located == [("records", 1, "accuracy"), ("records", 2, "model"),
                       ("records", 3, "accuracy"), ("records", 4, "accuracy")]
    reasons = [p["reason"] for p in body["problems"]]
    assert "'abc' is not a number" in reasons[0]
    assert "empty model name" in reasons[1]
    assert "outside [0, 1]" in reasons[2]
    assert '"accuracy_unit": "percent" in the request' in reasons[2]
    assert "not list" in reasons[3]
    with served.open() as g:
        assert g.dump() == before


def test_post_records_without_a_needed_column(served: Served) -> None:
    response = served.client.post("/records", json={"records": [
        {"model": "r18", "dataset": "photo_b", "acuracy": 0.5}]})
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["row"] is None and problem["column"] == "accuracy"
    assert "did you mean 'acuracy'" in problem["reason"]
    for bad in ({"records": []}, {"records": [{"model": "a"}], "accuracy_unit": "permille"},
                {"records": [{"model": "a"}], "extra": 1}, {"rows": []}):
        assert served.client.post("/records", json=bad).status_code == 422, bad
    not_json = served.client.post("/records", content=b"{not json",
                                  headers={"content-type": "application/json"})
    assert not_json.status_code == 422 and "error" in not_json.json()


def test_openapi_and_docs(served: Served) -> None:
    schema = served.client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/health", "/status", "/recommend", "/records"}
    assert set(schema["paths"]["/recommend"]) == {"get", "post"}
    assert "ColdStart" in schema["components"]["schemas"]
    docs = served.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    missing = served.client.get("/nowhere")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}


def test_concurrent_requests(served: Served) -> None:
    """Threadpool endpoints share the one store: concurrent reads all answer, alike."""
    def ask(i: int) -> tuple[int, str]:
        path = "/status" if i % 3 == 0 else "/recommend?dataset=sketch_a&k=4"
        response = served.client.get(path)
        return response.status_code, json.dumps(response.json(), sort_keys=True)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(48)))
    assert {code for code, _ in answers} == {200}
    assert len({text for i, (_, text) in enumerate(answers) if i % 3}) == 1
    assert len({text for i, (_, text) in enumerate(answers) if i % 3 == 0}) == 1


def test_unexpected_error_is_500_and_the_server_stays_up(
        served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(store):
        raise RuntimeError("boom")

    monkeypatch.setattr(workflow, "status", broken)
    response = served.client.get("/status")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error: RuntimeError: boom"}
    assert served.client.get("/health").json() == {"status": "ok"}


# -- the command --------------------------------------------------------------------------


def test_serve_refuses_a_remote_host_without_allow_remote(tmp_path: Path) -> None:
    db = tmp_path / "db"
    result = CliRunner().invoke(main, ["--db", str(db), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "no authentication" in result.stderr and "--allow-remote" in result.stderr
    assert not db.exists(), "refused before opening the database"


def test_loopback_hosts() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.4", "example.org", ""]))


def test_serve_command_end_to_end(tmp_path: Path) -> None:
    """`graphrec serve` in its own process: says where it listens, answers, reports a dead
    database as 503, and on Ctrl+C shuts down cleanly, closing the store."""
    db = tmp_path / "db"
    env = {**os.environ, "GRAPHREC_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "graphrec", "--db", str(db), "serve",
                             "--port", "0", "--log-level", "warning"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"serving embedded://{db} on http://127.0.0.1:"), (
            line, proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
        url = line.split(" on ", 1)[1].split()[0]
        assert line.rstrip().endswith(f"(docs: {url}/docs)")
        assert httpx.get(f"{url}/health", timeout=30).json() == {"status": "ok"}
        state = json.loads((db / "falkordb" / "server.json").read_text())
        os.kill(state["pid"], signal.SIGKILL)  # the database server dies under it
        deadline = time.monotonic() + 10
        while Path(f"/proc/{state['pid']}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        down = httpx.get(f"{url}/health", timeout=60)
        assert down.status_code == 503 and "database unreachable" in down.json()["error"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (db / "falkordb" / "server.json").exists()
