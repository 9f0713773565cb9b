"""Proxy scores in the database: `graphrec score` (one pair and a folder), score matrices
through loader specs, the score queries, and training on SCORED edges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import graphrec
from graphrec.errors import UsageError
from graphrec.predict.workflow import read_graph
from graphrec.scores import logme

from .conftest import write_csv
from .test_cli import run

MODELS = "name,family\nresnet50,resnet\nvit_b16,vit\nconvnext_t,convnext\nswin_t,swin\n"
RECORDS = """model,dataset,accuracy
resnet50,flowers,0.80
vit_b16,flowers,0.90
convnext_t,flowers,0.70
swin_t,flowers,0.60
resnet50,birds,0.50
vit_b16,birds,0.60
"""


@pytest.fixture
def zoo(g: graphrec.Graphrec, tmp_path: Path) -> graphrec.Graphrec:
    g.ingest(write_csv(tmp_path / "records.csv", RECORDS),
             models=write_csv(tmp_path / "models.csv", MODELS))
    return g


def _scored(g: graphrec.Graphrec) -> dict[tuple[str, str, str], float]:
    rows = g.store.run("MATCH (m:Model)-[s:SCORED]->(d:Dataset) "
                       "RETURN m.name AS m, d.name AS d, s.metric AS k, s.value AS v")
    return {(r["m"], r["d"], r["k"]): r["v"] for r in rows}


def _arrays(seed: int, separable: bool = True, n: int = 60) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    f = rng.normal(size=(n, 5)) + (3.0 * np.eye(5)[y] if separable else 0.0)
    logits = rng.normal(size=(n, 4)) + (2.0 * np.eye(4)[y] if separable else 0.0)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return f, y, p


# -- one pair ----------------------------------------------------------------------------------

def test_score_stores_each_metric_and_replaces_it(zoo: graphrec.Graphrec) -> None:
    f, y, p = _arrays(0)
    report = zoo.score("resnet50", "flowers", features=f, labels=y, source_probs=p)
    assert {r["metric"] for r in report["scores"]} == {"logme", "leep", "nce", "hscore"}
    assert report["created"] == 4
    stored = _scored(zoo)
    assert stored[("resnet50", "flowers", "logme")] == pytest.approx(logme(f, y), rel=1e-12)
    # Scoring again with other features replaces the value: one edge per metric and pair.
    f2, _, _ = _arrays(1, separable=False)
    again = zoo.score("resnet50", "flowers", features=f2, labels=y, metrics="logme")
    assert again["updated"] == 1 and again["created"] == 0
    stored = _scored(zoo)
    assert len(stored) == 4
    assert stored[("resnet50", "flowers", "logme")] == pytest.approx(logme(f2, y), rel=1e-12)


def test_score_accepts_npy_paths_and_adds_a_new_dataset(zoo: graphrec.Graphrec,
                                                        tmp_path: Path) -> None:
    f, y, _ = _arrays(2)
    np.save(tmp_path / "f.npy", f)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "short.npy", f[:-1])
    with pytest.raises(UsageError, match=r"short\.npy has \d+ rows but labels"):
        zoo.score("vit_b16", "new_task", features=tmp_path / "short.npy",
                  labels=tmp_path / "y.npy")  # headers checked against each other
    report = zoo.score("vit_b16", "new_task", features=tmp_path / "f.npy",
                       labels=str(tmp_path / "y.npy"))
    assert report["datasets_added"] == 1 and report["seconds"] > 0
    assert set(_scored(zoo)) == {("vit_b16", "new_task", "logme"),
                                 ("vit_b16", "new_task", "hscore")}
    # The model's metadata is untouched by a score that names it.
    assert zoo.store.run("MATCH (m:Model {name: 'vit_b16'}) RETURN m.family AS f")[0]["f"] \
        == "vit"


def test_score_errors_leave_the_graph_as_it_was(zoo: graphrec.Graphrec) -> None:
    f, y, _ = _arrays(3)
    before = zoo.dump()
    with pytest.raises(UsageError, match=r"no model named 'resnet5'.*Close names: resnet50"):
        zoo.score("resnet5", "flowers", features=f, labels=y)
    with pytest.raises(UsageError, match="leep"):
        zoo.score("resnet50", "flowers", features=f, labels=y, metrics="leep")
    with pytest.raises(UsageError, match="unknown metric"):
        zoo.score("resnet50", "flowers", features=f, labels=y, metrics="logmee")
    bad = f.copy()
    bad[7, 2] = np.nan
    with pytest.raises(UsageError, match="NaN"):
        zoo.score("resnet50", "flowers", features=bad, labels=y)
    with pytest.raises(UsageError, match="give features"):
        zoo.score("resnet50", "flowers", labels=y)
    with pytest.raises(UsageError, match="all as arrays or all"):
        zoo.score("resnet50", "flowers", features=f, labels="y.npy")
    assert zoo.dump() == before


# -- a folder ---------------------------------------------------------------------------------

def _folder(root: Path) -> Path:
    for k, dataset in enumerate(("flowers", "birds")):
        f, y, p = _arrays(10 + k)
        (root / dataset / "google").mkdir(parents=True)
        np.save(root / dataset / "labels.npy", y)
        np.save(root / dataset / "resnet50.features.npy", f)
        np.save(root / dataset / "resnet50.probs.npy", p)
        np.save(root / dataset / "vit_b16.features.npy", f[:, ::-1] * 2)
    return root


def test_score_folder(zoo: graphrec.Graphrec, tmp_path: Path) -> None:
    report = zoo.score_folder(_folder(tmp_path / "feats"))
    assert report["created"] == 2 * (4 + 2)
    stored = _scored(zoo)
    assert ("resnet50", "birds", "leep") in stored
    assert ("vit_b16", "birds", "leep") not in stored  # no probs for it
    report = zoo.score_folder(tmp_path / "feats", metrics="logme")
    assert report["unchanged"] == 4 and report["created"] == 0


def test_a_bad_folder_writes_nothing(zoo: graphrec.Graphrec, tmp_path: Path) -> None:
    root = _folder(tmp_path / "feats")
    np.save(root / "birds" / "vit_b16.features.npy", np.zeros((7, 5)))  # 7 rows, 60 labels
    before = zoo.dump()
    with pytest.raises(UsageError, match=r"vit_b16\.features\.npy has 7 rows but labels"):
        zoo.score_folder(root)
    (root / "birds" / "labels.npy").unlink()
    with pytest.raises(UsageError, match=r"no labels\.npy"):
        zoo.score_folder(root)
    with pytest.raises(UsageError, match=r"holds dataset folders; give .*feats as the"):
        zoo.score_folder(tmp_path)
    with pytest.raises(UsageError, match="one dataset's folder: give its parent"):
        zoo.score_folder(root / "flowers")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=r"no <dataset>/<model>\.features\.npy"):
        zoo.score_folder(tmp_path / "empty")
    np.save(root / "birds" / "labels.npy", _arrays(11)[1])
    np.save(root / "birds" / "vit_b16.features.npy", _arrays(11)[0])
    (root / "flowers" / "swin_x.features.npy").write_bytes(b"not numpy")
    with pytest.raises(UsageError, match=r"no model named 'swin_x'.*swin_t"):
        zoo.score_folder(root)
    (root / "flowers" / "swin_x.features.npy").rename(root / "flowers" / "swin_t.features.npy")
    with pytest.raises(UsageError, match=r"swin_t\.features\.npy: not a \.npy array file"):
        zoo.score_folder(root)
    assert zoo.dump() == before
    (root / "flowers" / "swin_t.features.npy").unlink()
    assert zoo.score_folder(root)["created"] == 12  # the mended folder scores


# -- score matrices -------------------------------------------------------------------------------

def test_a_wide_score_matrix_ingests_as_scored_edges(zoo: graphrec.Graphrec,
                                                     tmp_path: Path) -> None:
    matrix = write_csv(tmp_path / "LogME.csv", "model,flowers,birds\n"
                                                "resnet50,1.5,0.2\nvit_b16,2.5,\n"
                                                "swin_t,0.5,0.1\n")
    summary = zoo.ingest(None, scores=matrix, metric="logme")
    assert summary.scores.created == 5
    assert _scored(zoo)[("vit_b16", "flowers", "logme")] == 2.5
    assert zoo.ingest(None, scores=matrix, metric="logme").scores.unchanged == 5
    transposed = write_csv(tmp_path / "t.csv", "dataset,resnet50,vit_b16\nflowers,9,8\n")
    summary = zoo.ingest(None, scores=transposed, metric="logme", score_rows="datasets")
    assert summary.scores.updated == 2
    graph = read_graph(zoo.store)
    assert set(graph.scores) == {"logme"} and len(graph.scores["logme"][0]) == 5


def test_score_matrix_usage_errors(tmp_path: Path) -> None:
    matrix = write_csv(tmp_path / "s.csv", "model,flowers\nresnet50,x\n")
    with pytest.raises(UsageError, match="needs its metric"):
        graphrec.load(scores=matrix)
    with pytest.raises(UsageError, match="must name the score"):
        graphrec.load(scores=matrix, metric=" ")
    with pytest.raises(UsageError, match="--score-rows"):
        graphrec.load(scores=matrix, metric="logme", score_rows="rows")
    with pytest.raises(graphrec.ValidationError, match=r"s\.csv:2: column 'flowers'"):
        graphrec.load(scores=matrix, metric="logme")


# -- queries ---------------------------------------------------------------------------------

def _ingest_scores(g: graphrec.Graphrec, tmp_path: Path, rows: str) -> None:
    g.ingest(None, scores=write_csv(tmp_path / "s.csv", rows), metric="logme")


def test_top_models_by_score(zoo: graphrec.Graphrec, tmp_path: Path) -> None:
    _ingest_scores(zoo, tmp_path, "model,flowers,unseen\nresnet50,1,5\nvit_b16,3,\n"
                                  "convnext_t,2,\n")
    rows = zoo.query("top-models-by-score", dataset="flowers", metric="logme", k=2)
    assert [(r["model"], r["score"], r["accuracy"]) for r in rows] == [
        ("vit_b16", 3.0, 0.9), ("convnext_t", 2.0, 0.7)]
    rows = zoo.query("top-models-by-score", dataset="unseen", metric="logme")
    assert [(r["model"], r["accuracy"]) for r in rows] == [("resnet50", None)]
    assert zoo.query("top-models-by-score", dataset="flowers", metric="leep") == []


def test_score_agreement(zoo: graphrec.Graphrec, tmp_path: Path) -> None:
    # flowers accuracies: vit .9 > resnet .8 > convnext .7 > swin .6; the score agrees on
    # all pairs but one (resnet/convnext swapped). birds has only two scored models.
    _ingest_scores(zoo, tmp_path, "model,flowers,birds\nvit_b16,4,1\nresnet50,2,2\n"
                                  "convnext_t,3,\nswin_t,1,\n")
    rows = zoo.query("score-agreement", metric="logme")
    assert len(rows) == 1
    row = rows[0]
    assert row["dataset"] == "flowers" and row["models"] == 4
    assert row["kendall_tau"] == pytest.approx((5 - 1) / 6)
    assert row["top1_agrees"] is True and row["top_by_score"] == "vit_b16"
    rows = zoo.query("score-agreement", metric="logme", min_models=2)
    birds = next(r for r in rows if r["dataset"] == "birds")
    assert birds["kendall_tau"] == pytest.approx(-1.0) and birds["top1_agrees"] is False
    assert rows[0]["dataset"] == "birds"  # worst agreement first


# -- training reads the scores ---------------------------------------------------------------------

def test_train_reads_scores_unless_told_not_to(zoo: graphrec.Graphrec, tmp_path: Path) -> None:
    _ingest_scores(zoo, tmp_path, "model,flowers,birds\nvit_b16,4,1\nresnet50,2,2\n")
    record = zoo.train("linear")
    assert record["score_metrics"] == ["logme"]
    record = zoo.train("linear", use_scores=False)
    assert record["score_metrics"] == []
    record = zoo.train("proxy")
    assert record["score_metrics"] == ["logme"]


def test_new_scores_make_a_predictor_that_reads_them_stale(zoo: graphrec.Graphrec,
                                                           tmp_path: Path) -> None:
    _ingest_scores(zoo, tmp_path, "model,flowers,birds\nvit_b16,4,1\nresnet50,2,2\n")
    zoo.train("hla", use_scores=False)
    _ingest_scores(zoo, tmp_path, "model,flowers,birds\nvit_b16,5,1\nresnet50,2,2\n")
    assert not zoo.status()["stale"]  # it does not read them
    zoo.train("hla")
    assert not zoo.status()["stale"]
    f, y, _ = _arrays(4)
    zoo.score("swin_t", "flowers", features=f, labels=y, metrics="logme")
    status = zoo.status()
    assert status["stale"] and status["last_score_change"] > status["predictor"]["created_at"]


def test_status_says_which_change_made_predictions_stale(tmp_path: Path) -> None:
    db = tmp_path / "db"
    _cli(db, "ingest", str(write_csv(tmp_path / "r.csv", RECORDS)))
    _cli(db, "ingest", "--scores", str(write_csv(tmp_path / "s.csv", "model,flowers\n"
                                                                     "vit_b16,1\nswin_t,2\n")),
         "--metric", "logme")
    assert _cli(db, "train")[0] == 0
    _cli(db, "ingest", "--scores", str(write_csv(tmp_path / "s.csv", "model,flowers\n"
                                                                     "vit_b16,3\nswin_t,2\n")),
         "--metric", "logme")
    code, out, _ = _cli(db, "status")
    assert code == 0 and "stale: the scores it reads changed at" in out


def test_training_the_proxy_predictor_needs_scores(zoo: graphrec.Graphrec) -> None:
    with pytest.raises(UsageError, match=r"cannot train 'proxy'.*no proxy scores"):
        zoo.train("proxy")
    with pytest.raises(UsageError, match="use_scores names nce"):
        zoo.train("hla", use_scores=["nce"])


# -- the command -------------------------------------------------------------------------------

def _cli(db: Path, *args: str) -> tuple[int, str, str]:
    result = run("--db", str(db), *args)
    return result.exit_code, result.stdout, result.stderr


def test_score_command(tmp_path: Path) -> None:
    db = tmp_path / "db"
    write_csv(tmp_path / "records.csv", RECORDS)
    write_csv(tmp_path / "models.csv", MODELS)
    code, _, err = _cli(db, "ingest", str(tmp_path / "records.csv"), "--models",
                        str(tmp_path / "models.csv"))
    assert code == 0, err
    f, y, p = _arrays(5)
    for name, arr in (("f", f), ("y", y), ("p", p)):
        np.save(tmp_path / f"{name}.npy", arr)
    code, out, err = _cli(db, "score", "resnet50", "flowers", "--features",
                          str(tmp_path / "f.npy"), "--labels", str(tmp_path / "y.npy"),
                          "--source-probs", str(tmp_path / "p.npy"), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["created"] == 4 and len(data["scores"]) == 4
    code, out, err = _cli(db, "score", "resnet50", "flowers", "--features",
                          str(tmp_path / "f.npy"), "--labels", str(tmp_path / "y.npy"),
                          "--metrics", "logme,hscore")
    assert code == 0, err
    assert "logme" in out and "2 scores" in out and "2 unchanged" in out
    code, out, err = _cli(db, "score", "--folder", str(_folder(tmp_path / "feats")))
    assert code == 0, err
    assert "12 scores" in out and "8 new, 4 replaced" in out
    code, out, err = _cli(db, "query", "top-models-by-score", "-p", "dataset=birds",
                          "-p", "metric=logme")
    assert code == 0 and "resnet50" in out and "vit_b16" in out


@pytest.mark.parametrize(("args", "message"), [
    (["score", "resnet50"], "name the MODEL and the DATASET"),
    (["score", "resnet50", "flowers", "--features", "f.npy"], "--labels is needed"),
    (["score", "resnet50", "flowers", "--labels", "y.npy"], "give --features"),
    (["score", "--folder", "x", "resnet50"], "drop MODEL"),
    (["score", "resnet50", "flowers", "--labels", "y.npy", "--features", "f.npy",
      "--metrics", "logme,nope"], "unknown metric"),
    (["score", "resnet50", "flowers", "--labels", "missing.npy", "--features", "f.npy"],
     "no such file"),
])
def test_score_command_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    db = tmp_path / "db"
    write_csv(tmp_path / "models.csv", MODELS)
    _cli(db, "ingest", str(write_csv(tmp_path / "r.csv", RECORDS)), "--models",
         str(tmp_path / "models.csv"))
    f, y, _ = _arrays(6)
    np.save(tmp_path / "f.npy", f)
    np.save(tmp_path / "y.npy", y)
    args = [str(tmp_path / a) if a.endswith(".npy") else a for a in args]
    code, _, err = _cli(db, *args)
    assert code == 2, err
    assert message in err


def test_synth_ingest_and_benchmark_with_scores(tmp_path: Path) -> None:
    """The whole path from the command line: a zoo with scores, ingested and benchmarked
    with and without them."""
    zoo, db = tmp_path / "zoo", tmp_path / "db"
    code, out, err = _cli(db, "synth", "--models", "8", "--datasets", "60", "--density", "1",
                          "--pair-sd", "0.6", "--score-noise", "0.3", "--out", str(zoo))
    assert code == 0, err
    assert "--scores" in out and "--metric synthetic" in out
    code, _, err = _cli(db, "ingest", str(zoo / "records.csv"), "--models",
                        str(zoo / "models.csv"), "--datasets", str(zoo / "datasets.csv"),
                        "--scores", str(zoo / "scores.csv"), "--metric", "synthetic")
    assert code == 0, err
    code, out, err = _cli(db, "query", "score-agreement", "-p", "metric=synthetic", "--json")
    assert code == 0, err
    assert len(json.loads(out)) == 60
    code, out, err = _cli(db, "benchmark", "--data", str(zoo), "--scores",
                          str(zoo / "scores.csv"), "--metric", "synthetic", "--methods",
                          "hla,hla+scores,proxy", "--seeds", "1", "--json")
    assert code == 0, err
    result = {m["key"]: m for m in json.loads(out)["methods"]}
    assert set(result) == {"hla", "hla+scores", "proxy"}
    # From the database (SCORED edges), without any file.
    code, out, err = _cli(db, "benchmark", "--methods", "hla+scores", "--seeds", "1",
                          "--json")
    assert code == 0, err
    code, _, err = _cli(db, "ingest", "--scores", str(zoo / "scores.csv"))
    assert code == 2 and "needs its metric" in err
    code, _, err = _cli(db, "benchmark", "--data", str(zoo), "--methods", "hla+scores")
    assert code == 2 and "read proxy scores" in err
