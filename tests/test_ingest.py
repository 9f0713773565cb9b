"""Ingest behaviour on every backend: the paper's data, the generic format, idempotency."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import graphrec
from graphrec.loaders import build, load_spec

from .conftest import write_csv


def _column_order(domainnet: Path) -> dict[str, list[tuple[str, float]]]:
    """Each dataset's (model, accuracy) pairs straight from the record matrix."""
    with open(domainnet / "record_domainnet_10_270.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    out: dict[str, list[tuple[str, float]]] = {name: [] for name in rows[0][1:]}
    for row in rows[1:]:
        for name, cell in zip(rows[0][1:], row[1:], strict=True):
            out[name].append((row[0], float(cell)))
    return out


def test_domainnet_counts_and_order(g: graphrec.Graphrec, domainnet: Path) -> None:
    summary = g.ingest(domainnet, loader="domainnet")
    assert (summary.models.created, summary.datasets.created, summary.transfers.created) == (
        10, 270, 2700)
    counts = g.stats()
    assert counts["nodes"]["Model"] == 10
    assert counts["nodes"]["Dataset"] == 270
    assert counts["nodes"]["Domain"] == 6
    assert counts["nodes"]["Family"] <= 10
    assert counts["relationships"]["TRANSFERS_TO"] == 2700
    assert counts["relationships"]["IN_DOMAIN"] == 270
    assert counts["relationships"]["IN_FAMILY"] == 10

    # top-models returns each dataset's column in accuracy order (ties by name).
    for name, pairs in _column_order(domainnet).items():
        rows = g.query("top-models", dataset=name, k=10)
        expected = sorted(pairs, key=lambda p: (-p[1], p[0]))
        assert [(r["model"], r["accuracy"]) for r in rows] == expected, name


def test_domainnet_metadata_traps(g: graphrec.Graphrec, domainnet: Path) -> None:
    g.ingest(domainnet, loader="domainnet")
    rows = g.store.run("MATCH (d:Dataset {name: $n}) RETURN properties(d) AS p",
                       {"n": "task1_painting_10"})
    props = rows[0]["p"]
    # Row 0 of the metadata pairs with column 0 of the matrix, by position.
    assert props["metadata_name"] == "1_painting_2"
    assert props["domain"] == "painting"
    assert props["num_classes"] == 2  # `categories`
    assert props["samples_per_class"] == 10  # `num_pre_class` is samples per class
    assert props["train_size"] == 20
    assert props["labels"] == ["saxophone", "flying_saucer"]
    model = g.store.run("MATCH (m:Model {name: 'convnext_small'})-[:IN_FAMILY]->(f) "
                        "RETURN properties(m) AS p, f.name AS family")[0]
    assert model["family"] == "convnext"
    assert model["p"]["params"] == 50223688
    assert model["p"]["top1"] == pytest.approx(0.83616)  # given in percent
    assert model["p"]["input_size"] == 224
    # Shared attributes are traversable: the two task1 painting tasks of other sizes share
    # both labels with task1_painting_10.
    similar = g.query("similar-datasets", dataset="task1_painting_10", k=2)
    assert {r["dataset"] for r in similar} == {"task1_painting_30", "task1_painting_50"}
    assert all(r["shared_labels"] == 2 and r["same_domain"] for r in similar)


def test_second_ingest_changes_nothing(g: graphrec.Graphrec, domainnet: Path) -> None:
    g.ingest(domainnet, loader="domainnet")
    before = g.dump()
    again = g.ingest(domainnet, loader="domainnet")
    assert not again.changed
    assert again.transfers.unchanged == 2700 and again.datasets.unchanged == 270
    assert g.dump() == before


def test_records_runs_aggregate_and_extras_kept(g: graphrec.Graphrec, tmp_path: Path) -> None:
    records = write_csv(tmp_path / "records.csv",
                        "model,dataset,accuracy,lr,note\n"
                        "m1,d1,0.5,0.01,first\n"
                        "m1,d1,0.7,0.01,second\n"
                        "m1,d1,0.6,0.01,\n"
                        "m2,d1,0.9,0.1,solo\n")
    summary = g.ingest(records)
    assert summary.transfers.created == 2 and summary.record_rows == 4
    edge = g.store.run("MATCH (:Model {name: 'm1'})-[t:TRANSFERS_TO]->(:Dataset {name: 'd1'}) "
                       "RETURN properties(t) AS p")[0]["p"]
    assert edge["accuracy"] == pytest.approx(0.6)
    assert edge["runs"] == 3
    assert edge["accuracy_std"] == pytest.approx(0.0816496580927726)
    assert edge["accuracy_min"] == 0.5 and edge["accuracy_max"] == 0.7
    assert edge["lr"] == 0.01  # the same on every run: one value
    assert edge["note"] == ["first", "second", ""]  # differs per run: one per run, in order
    assert edge["source"] == "records.csv"
    solo = g.query("top-models", dataset="d1", k=1)[0]
    assert solo == {"model": "m2", "family": None, "accuracy": 0.9, "runs": 1}


def test_metadata_links_and_updates(g: graphrec.Graphrec, tmp_path: Path) -> None:
    records = write_csv(tmp_path / "r.csv", "model,dataset,accuracy\nm1,d1,0.5\nm2,d1,0.6\n")
    models = write_csv(tmp_path / "m.csv", "name,family,params,top1,license\n"
                                           "m1,resnet,1000,0.7,mit\nm2,vit,2000,0.8,apache\n")
    datasets = write_csv(tmp_path / "d.csv", "name,domain,num_classes,labels\n"
                                             "d1,sketch,2,cat;dog\n")
    g.ingest(records, models=models, datasets=datasets)
    row = g.store.run("MATCH (m:Model {name: 'm1'})-[:IN_FAMILY]->(f:Family) "
                      "RETURN f.name AS f, m.license AS license, m.params AS params")[0]
    assert row == {"f": "resnet", "license": "mit", "params": 1000}
    labels = g.store.run("MATCH (:Dataset {name: 'd1'})-[:HAS_LABEL]->(l) RETURN l.name AS l "
                         "ORDER BY l")
    assert [r["l"] for r in labels] == ["cat", "dog"]

    # m1 moves to another family, d1 changes labels, one accuracy changes.
    write_csv(models, "name,family,params,top1,license\nm1,vit,1000,0.7,mit\n"
                      "m2,vit,2000,0.8,apache\n")
    write_csv(datasets, "name,domain,num_classes,labels\nd1,sketch,2,cat;emu\n")
    write_csv(records, "model,dataset,accuracy\nm1,d1,0.55\nm2,d1,0.6\n")
    summary = g.ingest(records, models=models, datasets=datasets)
    assert (summary.models.updated, summary.models.unchanged) == (1, 1)
    assert summary.datasets.updated == 1
    assert (summary.transfers.updated, summary.transfers.unchanged) == (1, 1)
    families = g.store.run("MATCH (:Model {name: 'm1'})-[:IN_FAMILY]->(f) RETURN f.name AS f")
    assert [r["f"] for r in families] == ["vit"]
    labels = g.store.run("MATCH (:Dataset {name: 'd1'})-[:HAS_LABEL]->(l) RETURN l.name AS l "
                         "ORDER BY l")
    assert [r["l"] for r in labels] == ["cat", "emu"]
    assert g.query("top-models", dataset="d1", k=5)[1]["accuracy"] == 0.55


def test_records_alone_keep_existing_metadata(g: graphrec.Graphrec, tmp_path: Path) -> None:
    models = write_csv(tmp_path / "m.csv", "name,family\nm1,resnet\n")
    records = write_csv(tmp_path / "r.csv", "model,dataset,accuracy\nm1,d1,0.5\n")
    g.ingest(records, models=models)
    g.ingest(write_csv(tmp_path / "r2.csv", "model,dataset,accuracy\nm1,d2,0.4\n"))
    rows = g.store.run("MATCH (m:Model {name: 'm1'})-[:IN_FAMILY]->(f) RETURN f.name AS f, "
                       "m.family AS family")
    assert rows == [{"f": "resnet", "family": "resnet"}]


NASTY = ["it's", 'say "hi"', "back\\slash", "{braces}", "`ticks`", "MATCH (n) DETACH DELETE n",
         "日本語 modèle", "$param", "RETURN", "tab\there", "semi;colon", "  spaced"]


def test_names_roundtrip_unchanged(g: graphrec.Graphrec, tmp_path: Path) -> None:
    lines = ["model,dataset,accuracy"]
    for i, name in enumerate(NASTY):
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"{quoted},{quoted},0.{i + 1}")
    g.ingest(write_csv(tmp_path / "nasty.csv", "\n".join(lines) + "\n"))
    # csv strips surrounding spaces of unquoted and quoted cells alike
    expected = sorted(n.strip() for n in NASTY)
    stored = sorted(r["name"] for r in g.store.run("MATCH (m:Model) RETURN m.name AS name"))
    assert stored == expected
    for name in expected:
        rows = g.query("top-models", dataset=name, k=3)
        assert [r["model"] for r in rows] == [name]
    assert g.ingest(tmp_path / "nasty.csv").changed is False


def test_scores_from_a_matrix_spec(g: graphrec.Graphrec, tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", "model,dataset,accuracy\nm1,d1,0.5\nm2,d2,0.6\n")
    write_csv(tmp_path / "logme.csv", ",d1,d2\nm1,1.5,-0.25\nm2,,2\n")
    spec = write_csv(tmp_path / "zoo.toml", """
name = "zoo"
[records]
file = "r.csv"
[[scores]]
file = "logme.csv"
layout = "matrix"
metric = "logme"
""")
    summary = g.ingest(tmp_path, spec=spec)
    assert summary.scores.created == 3
    rows = g.store.run("MATCH (m:Model)-[s:SCORED]->(d:Dataset) RETURN m.name AS m, "
                       "d.name AS d, s.metric AS metric, s.value AS v ORDER BY m, d")
    assert rows == [{"m": "m1", "d": "d1", "metric": "logme", "v": 1.5},
                    {"m": "m1", "d": "d2", "metric": "logme", "v": -0.25},
                    {"m": "m2", "d": "d2", "metric": "logme", "v": 2.0}]
    assert g.ingest(tmp_path, spec=spec).scores.unchanged == 3


def test_percent_accuracy(g: graphrec.Graphrec, tmp_path: Path) -> None:
    records = write_csv(tmp_path / "r.csv", "model,dataset,accuracy\nm1,d1,87.5\nm2,d1,90%\n")
    g.ingest(records, accuracy_unit="percent")
    rows = g.query("top-models", dataset="d1", k=5)
    assert [(r["model"], r["accuracy"]) for r in rows] == [("m2", 0.9), ("m1", 0.875)]


def test_synthetic_zoo_roundtrip(g: graphrec.Graphrec, tmp_path: Path) -> None:
    from graphrec.synth import generate_zoo

    zoo = generate_zoo(12, 40, 0.5, 3, tmp_path / "zoo")
    summary = g.ingest(zoo.files["records"], models=zoo.files["models"],
                       datasets=zoo.files["datasets"])
    counts = g.stats()
    assert counts["nodes"]["Model"] == 12 and counts["nodes"]["Dataset"] == 40
    assert counts["relationships"]["TRANSFERS_TO"] == summary.transfers.created == zoo.records


def test_build_does_not_touch_the_database(tmp_path: Path, domainnet: Path) -> None:
    spec = load_spec(Path(graphrec.__file__).parents[1] / "loaders" / "domainnet.toml",
                     base=domainnet)
    zoo = build(spec)
    assert len(zoo.transfers) == 2700 and len(zoo.datasets) == 270


def test_unchanged_edges_are_found_by_digest_and_legacy_edges_in_full(
        g: graphrec.Graphrec, tmp_path: Path) -> None:
    """A re-ingest compares each edge's stored digest; one changed property is an update.
    Edges written before digests (none stored) are compared property by property. (The
    files keep one name: the source file's name is a property of the edge too.)"""
    text = "model,dataset,accuracy,lr\nm1,d1,0.5,0.1\nm1,d2,0.6,0.1\nm2,d1,0.7,0.2\n"
    records = write_csv(tmp_path / "r.csv", text)
    assert g.ingest(records).transfers.created == 3
    digests = {r["d"]: r["x"] for r in g.store.run(
        "MATCH (:Model {name: 'm1'})-[t:TRANSFERS_TO]->(d) RETURN d.name AS d, t.digest AS x")}
    assert all(isinstance(x, int) and x >= 0 for x in digests.values())
    assert digests["d1"] != digests["d2"]
    assert g.ingest(records).transfers.unchanged == 3
    changed = write_csv(tmp_path / "b" / "r.csv", text.replace("m1,d2,0.6,0.1", "m1,d2,0.6,0.3"))
    summary = g.ingest(changed).transfers
    assert (summary.updated, summary.unchanged) == (1, 2), "lr changed, accuracy did not"
    # An edge from before digests: compared in full, unchanged, left as it was.
    g.store.run("MATCH (:Model {name: 'm2'})-[t:TRANSFERS_TO]->() SET t.digest = null",
                write=True)
    summary = g.ingest(changed).transfers
    assert (summary.updated, summary.unchanged) == (0, 3)
    edited = write_csv(tmp_path / "c" / "r.csv", text.replace("m2,d1,0.7,0.2", "m2,d1,0.8,0.2")
                       .replace("m1,d2,0.6,0.1", "m1,d2,0.6,0.3"))
    summary = g.ingest(edited).transfers
    assert (summary.updated, summary.unchanged) == (1, 2)
