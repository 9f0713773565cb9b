"""The `graphrec` command, end to end: real files, the real embedded database, real output."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import graphrec
from graphrec import queries
from graphrec.cli import main
from graphrec.predict import workflow
from graphrec.store.process import pid_alive

from .conftest import REPO, write_csv


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def ok(*args: str, env: dict[str, str] | None = None) -> Result:
    result = run(*args, env=env)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def table(text: str) -> list[list[str]]:
    """A format_table block as rows of cells (the dashes line dropped)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert set(lines[1].replace(" ", "")) == {"-"}, lines
    return [re.split(r"\s{2,}", line.strip()) for line in [lines[0], *lines[2:]]]


@pytest.fixture
def zoo(tmp_path: Path) -> dict[str, Path]:
    """4 models x 4 datasets, 6 observed pairs (vit_l and photo_b have no records)."""
    return {
        "records": write_csv(tmp_path / "in" / "records.csv", "model,dataset,accuracy\n"
                             "r18,sketch_a,0.60\nr50,sketch_a,0.80\nvit_b,sketch_a,0.70\n"
                             "r18,sketch_b,0.50\nvit_b,sketch_b,0.50\nr18,photo_a,0.90\n"),
        "models": write_csv(tmp_path / "in" / "models.csv", "name,family,params\n"
                            "r18,resnet,11\nr50,resnet,25\nvit_b,vit,86\nvit_l,vit,304\n"),
        "datasets": write_csv(tmp_path / "in" / "datasets.csv", "name,domain,labels\n"
                              "sketch_a,sketch,cat;dog\nsketch_b,sketch,cat;emu\n"
                              "photo_a,photo,cat;dog\nphoto_b,photo,owl\n"),
    }


def ingest_args(zoo: dict[str, Path]) -> list[str]:
    return ["ingest", str(zoo["records"]), "--models", str(zoo["models"]),
            "--datasets", str(zoo["datasets"])]


@pytest.fixture
def db(tmp_path: Path, zoo: dict[str, Path]) -> Path:
    """A database folder holding `zoo`, ingested through the CLI."""
    path = tmp_path / "db"
    ok("--db", str(path), *ingest_args(zoo))
    return path


# -- ingest, stats ---------------------------------------------------------------------------

def test_ingest_table_then_nothing_changed(tmp_path: Path, zoo: dict[str, Path]) -> None:
    path = tmp_path / "db"
    first = ok("--db", str(path), *ingest_args(zoo))
    block, _, tail = first.stdout.partition("\n\n")
    assert table(block) == [["kind", "created", "updated", "unchanged"],
                            ["models", "4", "0", "0"],
                            ["datasets", "4", "0", "0"],
                            ["observed edges", "6", "0", "0"]]
    assert tail.startswith(f"wrote embedded://{path} in ")
    assert first.stderr == ""

    second = ok("--db", str(path), *ingest_args(zoo))
    block, _, tail = second.stdout.partition("\n\n")
    assert table(block)[1:] == [["models", "0", "0", "4"], ["datasets", "0", "0", "4"],
                                ["observed edges", "0", "0", "6"]]
    assert tail.startswith(f"nothing changed in embedded://{path} (checked in ")


def test_ingest_json(tmp_path: Path, zoo: dict[str, Path]) -> None:
    path = tmp_path / "db"
    data = json.loads(ok("--db", str(path), *ingest_args(zoo), "--json").stdout)
    assert data["database"] == f"embedded://{path}"
    assert data["loader"] == "records"
    assert data["transfers"] == {"created": 6, "updated": 0, "unchanged": 0}
    assert data["models"]["created"] == 4 and data["datasets"]["created"] == 4
    assert data["record_rows"] == 6
    again = json.loads(ok("--db", str(path), *ingest_args(zoo), "--json").stdout)
    assert again["transfers"] == {"created": 0, "updated": 0, "unchanged": 6}


def test_ingest_dry_run_writes_nothing(tmp_path: Path, zoo: dict[str, Path]) -> None:
    path = tmp_path / "db"
    data = json.loads(ok("--db", str(path), *ingest_args(zoo), "--dry-run", "--json").stdout)
    assert data == {"valid": True, "loader": "records", "models": 4, "datasets": 4,
                    "record_rows": 6, "pairs": 6, "scores": 0}
    assert not path.exists()


def test_ingest_bad_file_exit_2_with_json_problems(tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", "model,dataset,accuracy\nm1,d1,high\n")
    result = run("--db", str(tmp_path / "db"), "ingest", str(bad), "--json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["error"].startswith("1 problem found in the input; nothing was written")
    assert [(p["file"], p["row"], p["column"]) for p in data["problems"]] == [
        (str(bad), 2, "accuracy")]
    assert result.stderr == ""  # under --json, the JSON on stdout is the whole message


def test_stats_json_and_table(db: Path) -> None:
    counts = json.loads(ok("--db", str(db), "stats", "--json").stdout)
    assert counts == {
        "nodes": {"Dataset": 4, "Domain": 2, "Family": 2, "Label": 4, "Model": 4},
        "relationships": {"HAS_LABEL": 7, "IN_DOMAIN": 4, "IN_FAMILY": 4, "TRANSFERS_TO": 6},
    }
    text = ok("--db", str(db), "stats").stdout
    assert text.startswith(f"database: embedded://{db}\n")
    nodes, rels = text.split("\n\n")[1:3]
    assert ["Model", "4"] in table(nodes)
    assert ["TRANSFERS_TO", "6"] in table(rels)


# -- query ---------------------------------------------------------------------------------

def test_query_list_table() -> None:
    rows = table(ok("query", "--list").stdout)
    assert rows[0] == ["query", "parameters", "answers"]
    by_name = {r[0]: r[1:] for r in rows[1:]}
    assert set(by_name) == set(queries.user_queries())
    assert by_name["top-models"] == [
        "dataset:string, k:int=5",
        "the models that transferred best to a dataset, by observed accuracy."]
    assert by_name["coverage-summary"][0].startswith("how much of the model x dataset")
    # No name at all lists them too.
    assert ok("query").stdout == ok("query", "--list").stdout


def test_query_list_json() -> None:
    data = {q["name"]: q for q in json.loads(ok("query", "--list", "--json").stdout)}
    assert {"top-models", "top-datasets", "similar-datasets", "family-models", "coverage",
            "coverage-summary"} <= set(data)
    assert data["top-models"]["params"] == [
        {"name": "dataset", "type": "string", "required": True, "default": None,
         "doc": "the dataset's name"},
        {"name": "k", "type": "int", "required": False, "default": 5,
         "doc": "how many models to return"}]
    assert data["coverage"]["params"][0]["default"] == 50
    assert data["coverage-summary"]["params"] == []
    assert data["family-models"]["description"].startswith("the models of an architecture")


def test_query_top_models_table_and_json(db: Path) -> None:
    args = ["--db", str(db), "query", "top-models", "-p", "dataset=sketch_a", "-p", "k=2"]
    assert table(ok(*args).stdout) == [["model", "family", "accuracy", "runs"],
                                      ["r50", "resnet", "0.8000", "1"],
                                      ["vit_b", "vit", "0.7000", "1"]]
    assert json.loads(ok(*args, "--json").stdout) == [
        {"model": "r50", "family": "resnet", "accuracy": 0.8, "runs": 1},
        {"model": "vit_b", "family": "vit", "accuracy": 0.7, "runs": 1}]
    long_form = ["--db", str(db), "query", "top-models", "--param", "dataset=sketch_a", "--json"]
    assert len(json.loads(ok(*long_form).stdout)) == 3  # the default k=5, three observed
    none = ok("--db", str(db), "query", "top-models", "-p", "dataset=photo_b")
    assert none.stdout == "(no rows)\n"


def test_query_value_with_an_equals_sign_and_spaces(db: Path) -> None:
    rows = json.loads(ok("--db", str(db), "query", "family-models", "-p", " family =vit",
                         "--json").stdout)
    assert [r["model"] for r in rows] == ["vit_b", "vit_l"]
    odd = ok("--db", str(db), "query", "top-models", "-p", "dataset=a=b", "--json")
    assert json.loads(odd.stdout) == []  # `a=b` is the value: partitioned at the first `=`


def test_query_show_prints_the_cypher(tmp_path: Path) -> None:
    # --show never opens the database: an unreachable one does not matter.
    unreachable = ["--db", "redis://127.0.0.1:1"]
    shown = ok(*unreachable, "query", "coverage-summary", "--show").stdout
    assert shown == (REPO / "cypher/queries/coverage-summary.cypher").read_text().rstrip() + "\n"
    shown = ok(*unreachable, "query", "top-models", "-p", "dataset=x", "--show").stdout
    assert shown == queries.get("top-models").text.rstrip() + "\n"
    assert "$dataset" in shown and "LIMIT $k" in shown


def test_query_show_needs_no_parameters() -> None:
    result = run("query", "top-models", "--show")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == queries.get("top-models").text.rstrip() + "\n"


def test_query_missing_required_parameter(db: Path) -> None:
    result = run("--db", str(db), "query", "top-models")
    assert result.exit_code == 2
    assert "--param dataset=" in result.stderr
    assert result.stderr.startswith("error: query 'top-models' needs --param dataset=VALUE")
    assert result.stdout == ""
    as_json = run("--db", str(db), "query", "top-models", "--json")
    assert as_json.exit_code == 2
    data = json.loads(as_json.stdout)
    assert "--param dataset=" in data["error"] and data["problems"] == []


def test_query_bad_param_syntax_and_values(db: Path) -> None:
    result = run("--db", str(db), "query", "top-models", "-p", "nokeyvalue")
    assert result.exit_code == 2
    assert "--param takes KEY=VALUE, got 'nokeyvalue'" in result.stderr
    result = run("--db", str(db), "query", "top-models", "-p", "=x")
    assert result.exit_code == 2 and "KEY=VALUE" in result.stderr
    result = run("--db", str(db), "query", "top-models", "-p", "dataset=d", "-p", "k=abc")
    assert result.exit_code == 2
    assert "parameter k must be int, got 'abc'" in result.stderr
    result = run("--db", str(db), "query", "top-models", "-p", "dataset=d", "-p", "kk=1")
    assert result.exit_code == 2 and "has no parameter 'kk'" in result.stderr
    result = run("--db", str(db), "query", "top-modelz")
    assert result.exit_code == 2 and "Did you mean: top-models," in result.stderr


# -- info, synth, demo, version ----------------------------------------------------------------

def test_info(db: Path) -> None:
    data = json.loads(ok("--db", str(db), "info", "--json").stdout)
    assert data["database"] == f"embedded://{db}"
    assert data["backend"] == "falkordb"
    assert {k: data[k] for k in ("models", "datasets", "observed", "pairs")} == {
        "models": 4, "datasets": 4, "observed": 6, "pairs": 16}
    assert data["coverage"] == pytest.approx(0.375)
    text = ok("--db", str(db), "info").stdout.splitlines()
    assert "   backend: falkordb" in text
    assert "  coverage: 0.3750" in text


def test_info_on_a_new_database(tmp_path: Path) -> None:
    result = run("--db", str(tmp_path / "new"), "info", "--json")
    assert result.exit_code == 0, result.exception
    data = json.loads(result.stdout)
    assert (data["models"], data["datasets"], data["coverage"]) == (0, 0, 0.0)


def test_synth_writes_files_and_its_ingest_command_works(tmp_path: Path) -> None:
    out = tmp_path / "zoo"
    result = ok("synth", "--models", "4", "--datasets", "6", "--density", "0.5", "--seed", "1",
                "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["datasets.csv", "models.csv", "records.csv"]
    assert (out / "records.csv").read_text().startswith("model,dataset,accuracy")
    first, second = result.stdout.strip().splitlines()
    records = int(re.fullmatch(r"wrote (\d+) records for 4 models x 6 datasets to .*", first)[1])
    assert records == len((out / "records.csv").read_text().splitlines()) - 1
    assert second == (f"ingest with: graphrec ingest {out / 'records.csv'} "
                      f"--models {out / 'models.csv'} --datasets {out / 'datasets.csv'}")
    # The printed command does what it says.
    argv = shlex.split(second.removeprefix("ingest with: "))
    assert argv[0] == "graphrec"
    data = json.loads(ok("--db", str(tmp_path / "db"), *argv[1:], "--json").stdout)
    assert (data["models"]["created"], data["datasets"]["created"]) == (4, 6)
    assert data["transfers"]["created"] == records


def test_synth_command_survives_a_space_in_the_path(tmp_path: Path) -> None:
    out = tmp_path / "my zoo"
    line = ok("synth", "--models", "2", "--datasets", "2", "--out", str(out)).stdout
    argv = shlex.split(line.strip().splitlines()[-1].removeprefix("ingest with: "))
    assert argv[1:] == ["ingest", str(out / "records.csv"), "--models", str(out / "models.csv"),
                        "--datasets", str(out / "datasets.csv")]


def test_synth_json_and_bad_density(tmp_path: Path) -> None:
    data = json.loads(ok("synth", "--models", "2", "--datasets", "3", "--out",
                         str(tmp_path / "z"), "--json").stdout)
    assert (data["models"], data["datasets"]) == (2, 3)
    assert data["files"]["records"] == str(tmp_path / "z" / "records.csv")

    result = run("synth", "--density", "0", "--out", str(tmp_path / "never"))
    assert result.exit_code == 2
    assert "--density" in result.stderr and "0<x<=1" in result.stderr
    assert not (tmp_path / "never").exists()
    assert run("synth", "--models", "0", "--out", str(tmp_path / "never")).exit_code == 2
    assert run("synth", "--density", "0.5").exit_code == 2  # --out is required


def test_demo_json() -> None:
    home = Path(os.environ["GRAPHREC_HOME"])
    data = json.loads(ok("demo", "--json").stdout)
    assert data["database"] == str(home / "demo" / "db")
    assert data["zoo"] == str(home / "demo" / "zoo")
    answers = data["recommendations"]
    assert len(answers) == 4  # the three least measured datasets, then a cold-start one
    with graphrec.open(data["database"]) as g:
        least = [r["dataset"] for r in g.query("coverage", k=300)
                 if r["dataset"] != "my_new_sketch_dataset"][:3]
        assert list(answers)[:3] == least
        for dataset, rows in answers.items():
            assert len(rows) == 5
            scores = [r["score"] for r in rows]
            assert scores == sorted(scores, reverse=True)
            if dataset != "my_new_sketch_dataset":
                assert rows == workflow.recommend(g.store, dataset, k=5)
        cold = answers["my_new_sketch_dataset"]
        assert all(r["source"] == "predicted" for r in cold)
        # Scored in memory: the cold-start dataset is not left in the graph.
        assert not workflow.dataset_exists(g.store, "my_new_sketch_dataset")
        assert g.stats()["nodes"]["Model"] == 30
        assert workflow.status(g.store)["predictor"]["id"] == data["predictor"]


def test_version() -> None:
    assert ok("--version").stdout == f"graphrec, version {graphrec.__version__}\n"


# -- choosing the database -------------------------------------------------------------------

def test_graphrec_db_env_selects_the_database(db: Path, tmp_path: Path) -> None:
    data = json.loads(ok("info", "--json", env={"GRAPHREC_DB": str(db)}).stdout)
    assert data["database"] == f"embedded://{db}"
    assert data["observed"] == 6
    # --db wins over GRAPHREC_DB.
    other = tmp_path / "other"
    counts = json.loads(ok("--db", str(other), "stats", "--json",
                           env={"GRAPHREC_DB": str(db)}).stdout)
    assert counts == {"nodes": {}, "relationships": {}}
    assert (other / "falkordb").is_dir()


def test_no_db_uses_graphrec_home(zoo: dict[str, Path]) -> None:
    home = Path(os.environ["GRAPHREC_HOME"])
    data = json.loads(ok(*ingest_args(zoo), "--json").stdout)
    assert data["database"] == f"embedded://{home}"
    assert (home / "falkordb").is_dir()


def test_unreachable_server_exit_1_without_the_password() -> None:
    uri = "redis://:topsecret@127.0.0.1:1"
    result = run("--db", uri, "stats")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach FalkorDB at redis://127.0.0.1:1")
    assert "topsecret" not in result.stdout + result.stderr
    as_json = run("--db", uri, "stats", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["error"].startswith("cannot reach FalkorDB")
    assert "topsecret" not in as_json.stdout + as_json.stderr
    from_env = run("info", env={"GRAPHREC_DB": uri})
    assert from_env.exit_code == 1 and "cannot reach" in from_env.stderr
    assert "topsecret" not in from_env.stdout + from_env.stderr


def test_unknown_scheme_exit_2() -> None:
    result = run("--db", "mysql://x", "stats")
    assert result.exit_code == 2
    assert "unknown database address scheme 'mysql'" in result.stderr


# -- --json: JSON and nothing else, whatever went wrong --------------------------------------

def json_only(result: Result) -> list[dict]:
    """The whole of stdout is one JSON document; stderr holds nothing but JSON lines
    (warnings). Returns the stderr objects."""
    json.loads(result.stdout)
    return [json.loads(line) for line in result.stderr.splitlines()]


@pytest.mark.parametrize(("args", "code", "says"), [
    (("db", "--json"), 2, "No such option '--json'"),  # a group without its subcommand
    (("db", "nosuch", "--json"), 2, "No such command 'nosuch'"),
    (("db", "start", "--idle", "-1", "--json"), 2, "Invalid value for '--idle'"),
    (("predictors", "use", "--json"), 2, "Missing argument 'ID'"),
    (("predictors", "drop", "nope", "--json"), 2, "no predictor 'nope'"),
    (("plot", "dataset", "--json"), 2, "Missing argument 'DATASET'"),
    (("plot", "matrix", "--json"), 2, "Missing option '--out'"),
    (("plot", "matrix", "--out", "m.txt", "--json"), 2, ".png, .svg or .pdf"),
    (("explain", "a", "--json"), 2, "Missing argument 'MODEL'"),
    (("query", "nosuch", "--json"), 2, "no query named 'nosuch'"),
    (("score", "--json"), 2, "name the MODEL and the DATASET"),
    (("benchmark", "--methods", ",", "--json"), 2, "--methods is empty"),
    (("predict", "--stream", "--keep", "--json"), 2, "--stream writes nothing"),
    (("ingest", "no/such/records.csv", "--json"), 2, "1 problem found in the input"),
    (("--db", "mysql://x", "stats", "--json"), 2, "unknown database address scheme"),
    (("--db", "redis://127.0.0.1:1", "stats", "--json"), 1, "cannot reach FalkorDB"),
])
def test_json_errors_are_json_on_stdout_and_nothing_on_stderr(
        args: tuple[str, ...], code: int, says: str) -> None:
    result = run(*args)
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    error = json.loads(result.stdout)
    assert set(error) == {"error", "problems"} and says in error["error"], error
    assert result.stderr == ""
    # The same without --json: the human message on stderr, nothing on stdout.
    plain = run(*[a for a in args if a != "--json"])
    assert plain.exit_code == code and plain.stdout == ""
    assert plain.stderr.startswith(("error: ", "Usage: ")), plain.stderr


def test_json_warnings_are_json_lines_on_stderr(db: Path) -> None:
    ok("--db", str(db), "train", "--model", "mean", "--no-intervals")
    args = ("--db", str(db), "recommend", "new_one", "--domain", "sketchh", "--labels", "zzz")
    result = ok(*args, "--json")
    assert json.loads(result.stdout)  # the ranked models, as without the warnings
    warned = json_only(result)
    assert [w["category"] for w in warned] == ["UnseenMetadataWarning"] * 2
    assert "domain 'sketchh' is in no dataset" in warned[0]["warning"]
    assert "none of the labels" in warned[1]["warning"]
    plain = ok(*args)
    assert plain.stderr.startswith("warning: domain 'sketchh' is in no dataset")


def test_json_python_warnings_crashes_and_interrupts(db: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    real = workflow.status

    def warns(store):  # a library's warning, printed by Python's warnings machinery
        warnings.warn("something odd", RuntimeWarning, stacklevel=1)
        return real(store)

    monkeypatch.setattr(workflow, "status", warns)
    result = ok("--db", str(db), "status", "--json")
    assert json.loads(result.stdout)["observed"] == 6
    assert json_only(result) == [{"warning": "something odd", "category": "RuntimeWarning"}]

    def crashes(store):
        raise RuntimeError("a bug")

    monkeypatch.setattr(workflow, "status", crashes)
    result = run("--db", str(db), "status", "--json")
    assert result.exit_code == 1 and result.stderr == ""
    assert "unexpected RuntimeError: a bug" in json.loads(result.stdout)["error"]
    assert isinstance(run("--db", str(db), "status").exception, RuntimeError)  # traceback

    def interrupted(store):
        raise KeyboardInterrupt

    monkeypatch.setattr(workflow, "status", interrupted)
    result = run("--db", str(db), "status", "--json")
    assert result.exit_code == 130 and result.stderr == ""
    assert json.loads(result.stdout)["error"].startswith("interrupted")
    plain = run("--db", str(db), "status")
    assert plain.exit_code == 130 and plain.stderr.startswith("interrupted")


# -- processes ---------------------------------------------------------------------------------

def _server_pids(db: Path) -> set[int]:
    log = (db / "falkordb" / "server.log").read_text()
    return {int(pid) for pid in re.findall(r"^(\d+):M ", log, flags=re.M)}


def test_embedded_server_stops_when_a_command_returns(tmp_path: Path,
                                                      zoo: dict[str, Path]) -> None:
    db = tmp_path / "db"
    ok("--db", str(db), *ingest_args(zoo))
    state = db / "falkordb"
    pids = _server_pids(db)
    assert pids, "the server log names the server's pid"
    assert not (state / "server.json").exists()
    assert not (state / "s.sock").exists()
    assert not any(pid_alive(pid) for pid in pids)

    # The same through a real process.
    proc = subprocess.run([sys.executable, "-m", "graphrec", "--db", str(db), "info", "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["observed"] == 6
    new = _server_pids(db) - pids
    assert len(new) == 1
    assert not (state / "server.json").exists()
    assert not any(pid_alive(pid) for pid in new)


def test_python_m_graphrec_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "graphrec", "--help"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: python -m graphrec [OPTIONS] COMMAND")
    for command in ("demo", "info", "ingest", "query", "stats", "synth"):
        assert re.search(rf"^\s+{command}\s", proc.stdout, flags=re.M), command
    assert "GRAPHREC_DB" in proc.stdout


def test_unreachable_neo4j_exit_1_without_the_password() -> None:
    # A subprocess, because pytest's log capture would hide the driver's own log lines.
    for uri, env in (("bolt://neo4j:topsecret@127.0.0.1:1", {}),
                     ("neo4j://127.0.0.1:1", {"NEO4J_USER": "me", "NEO4J_PASSWORD": "topsecret"})):
        result = subprocess.run([sys.executable, "-m", "graphrec", "--db", uri, "stats"],
                                capture_output=True, text=True, env={**os.environ, **env},
                                timeout=60)
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("error: cannot reach Neo4j at ")
        # One error, and no copy of it from the driver's own logging.
        assert result.stderr.count("Unable to retrieve routing information") <= 1
        assert "topsecret" not in result.stdout + result.stderr
