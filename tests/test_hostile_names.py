"""Names and numbers that crashed the database or were answered wrongly (issue 12).

Each case runs while a second user holds the embedded server open, so a crash would show
as that user's server gone; the graph is compared before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import graphrec
from graphrec.cli import main
from graphrec.errors import ValidationError
from graphrec.loaders.zoodata import Entity, ZooData
from graphrec.names import MAX_NAME_BYTES, clean_name, name_problem

from .conftest import REPO, module_env, write_csv


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """3 models x 3 datasets with a `mean` predictor."""
    folder = tmp_path_factory.mktemp("hostile")
    with module_env(folder):
        records = write_csv(folder / "in" / "records.csv", "model,dataset,accuracy\n"
                            "r18,sketch_a,0.6\nr50,sketch_a,0.8\nvit,sketch_b,0.7\n"
                            "r18,photo_a,0.9\n")
        datasets = write_csv(folder / "in" / "datasets.csv", "name,domain,labels\n"
                             "sketch_a,sketch,cat;dog\nsketch_b,sketch,emu\nphoto_a,photo,cat\n")
        db = folder / "db"
        with graphrec.open(str(db)) as g:
            g.ingest(records, datasets=datasets)
            g.train("mean")
        yield db


@pytest.fixture
def held(zoo: Path) -> Iterator[graphrec.Graphrec]:
    """A user holding the server for the whole test: it must outlive every bad input."""
    with graphrec.open(str(zoo)) as g:
        pid = g.store.server_pid
        yield g
        assert g.store.server_pid == pid
        os.kill(pid, 0)  # still running
        assert g.store.run("RETURN 1 AS ok") == [{"ok": 1}]


def _cli(db: Path, *args: str):
    return CliRunner().invoke(main, ["--db", str(db), *args])


@pytest.mark.parametrize("name, problem", [
    ("", "empty"),
    (" x", "whitespace"),
    ("x\n", "whitespace"),
    ("a\x01b", "control character"),
    ("a\x00b", "control character"),
    ("a\nb", "control character"),
    ("é" * (MAX_NAME_BYTES // 2 + 1), "bytes"),
    ("bad\udcff", "UTF-8"),
])
def test_the_rule_for_names(name: str, problem: str) -> None:
    assert problem in name_problem(name)


def test_names_the_rule_keeps() -> None:
    for name in ["a\tb", "é" * (MAX_NAME_BYTES // 2), "MATCH (n) DETACH DELETE n", "日本語"]:
        assert name_problem(name) is None
    assert clean_name("  sketch \t", "domain") == "sketch"


def test_surrounding_whitespace_is_stripped_in_every_cold_start_field(
        zoo: Path, held: graphrec.Graphrec) -> None:
    result = _cli(zoo, "recommend", "newds ", "--domain", " sketch ", "--labels",
                  " cat , dog ", "--num-classes", "2", "--save")
    assert result.exit_code == 0, result.output
    rows = held.store.run("MATCH (d:Dataset {name: 'newds'})-[:IN_DOMAIN]->(x) "
                          "RETURN x.name AS domain, d.labels AS labels")
    assert rows == [{"domain": "sketch", "labels": ["cat", "dog"]}]
    assert held.store.counts()["nodes"]["Domain"] == 2  # no " sketch " beside "sketch"
    # and the same name with spaces is the same dataset
    assert _cli(zoo, "recommend", " newds", "--k", "2").exit_code == 0


def test_score_strips_the_dataset_name(zoo: Path, held: graphrec.Graphrec,
                                       tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.save(tmp_path / "f.npy", rng.normal(size=(40, 4)))
    np.save(tmp_path / "y.npy", np.arange(40) % 2)
    result = _cli(zoo, "score", "r18", "scored_ds ", "--features", str(tmp_path / "f.npy"),
                  "--labels", str(tmp_path / "y.npy"))
    assert result.exit_code == 0, result.output
    assert held.store.run("MATCH (d:Dataset {name: 'scored_ds'}) RETURN count(d) AS n"
                          ) == [{"n": 1}]


@pytest.mark.parametrize("args, words", [
    (["recommend", "a\x01b", "--domain", "sketch"], ["control character"]),
    (["recommend", "new", "--domain", "x" * 5000], ["domain", "bytes"]),
    (["recommend", "new", "--labels", ",,,"], ["name no label"]),
    (["recommend", "new", "--labels", "cat,\x01"], ["label", "control character"]),
    (["recommend", "sketch_a", "--k", "4294967299"], ["4294967299"]),
    (["predict", "--top-k", "4294967296"], ["4294967296"]),
    (["query", "top-models", "-p", "dataset=sketch_a", "-p", "k=4294967296"],
     ["k must be at most 2,147,483,647", "4,294,967,296"]),
    (["query", "top-models", "-p", "dataset=sketch_a", "-p", "k=-1"], ["0 or more"]),
    (["score", "r18", " ", "--features", "f.npy", "--labels", "y.npy"], ["empty"]),
])
def test_bad_names_and_counts_are_usage_errors(zoo: Path, held: graphrec.Graphrec,
                                               args: list[str], words: list[str]) -> None:
    before = held.dump()
    result = _cli(zoo, *args)
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output
    assert held.dump() == before


def test_a_records_file_with_a_5000_character_name(zoo: Path, held: graphrec.Graphrec,
                                                   tmp_path: Path) -> None:
    long = "d" * 5000
    records = write_csv(tmp_path / "r.csv", "model,dataset,accuracy\nr18,fine,0.5\n"
                        f"r18,{long},0.4\n")
    before = held.dump()
    result = _cli(zoo, "ingest", str(records))
    assert result.exit_code == 2
    assert f"{records}:3" in result.output and "5,000 bytes" in result.output
    assert held.dump() == before


def test_names_built_in_python_are_checked_before_any_write(
        zoo: Path, held: graphrec.Graphrec) -> None:
    before = held.dump()
    bad = ZooData(datasets={"ok_ds": Entity({"domain": "sketch"}, ("api", 1)),
                            "x ": Entity({}, ("api", 2))},
                  transfers={("r18", "ok_ds"): [(0.5, ())]})
    with pytest.raises(ValidationError, match="whitespace"):
        held.ingest(bad)
    labels = ZooData(datasets={"ok_ds": Entity({"labels": ["cat", " dog"]}, ("api", 1))})
    with pytest.raises(ValidationError, match="labels ' dog'"):
        held.ingest(labels)
    assert held.dump() == before


def test_whole_numbers_beyond_64_bits(zoo: Path, held: graphrec.Graphrec,
                                      tmp_path: Path) -> None:
    big = str(2**70)
    declared = write_csv(tmp_path / "d.csv", f"name,domain,num_classes\nsketch_a,sketch,{big}\n")
    before = held.dump()
    write_csv(tmp_path / "r.csv", "model,dataset,accuracy\nr18,sketch_a,0.6\n")
    result = _cli(zoo, "ingest", str(tmp_path / "r.csv"), "--datasets", str(declared))
    assert result.exit_code == 2 and "64-bit" in result.output and ":2" in result.output
    assert held.dump() == before
    # an undeclared column of such numbers is kept as its exact text: re-ingest is a no-op
    extra = write_csv(tmp_path / "e.csv", f"name,domain,checksum\nsketch_a,sketch,{big}\n")
    assert _cli(zoo, "ingest", str(tmp_path / "r.csv"), "--datasets", str(extra)
                ).exit_code == 0
    stored = held.store.run("MATCH (d:Dataset {name: 'sketch_a'}) RETURN d.checksum AS c")
    assert stored == [{"c": big}]
    again = _cli(zoo, "ingest", "--json", str(tmp_path / "r.csv"), "--datasets", str(extra))
    assert again.exit_code == 0
    assert json.loads(again.output)["datasets"] == {"created": 0, "updated": 0, "unchanged": 1}


def test_a_name_in_another_encoding_from_the_shell(zoo: Path, held: graphrec.Graphrec) -> None:
    env = {**os.environ, "GRAPHREC_SERVER_IDLE": "0", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    proc = subprocess.run([sys.executable, "-m", "graphrec", "--db", str(zoo), "recommend",
                           os.fsdecode(b"caf\xe9"), "--domain", "sketch"],
                          capture_output=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert b"not valid UTF-8" in proc.stderr and b"Traceback" not in proc.stderr
