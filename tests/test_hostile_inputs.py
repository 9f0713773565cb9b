"""Hostile inputs, as a user would give them (issue 12): each one ends in exit code 2 and a
message saying what is wrong, where and how to fix it; the graph is left exactly as it was
and the database still answers. Real files, the real embedded database, the real CLI."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner, Result

import graphrec
from graphrec.cli import main
from graphrec.errors import ValidationError
from graphrec.loaders.zoodata import Entity, ZooData

from .conftest import write_csv

RECORDS = ("model,dataset,accuracy\nr18,sketch_a,0.60\nr50,sketch_a,0.80\nvit_b,sketch_a,0.70\n"
           "r18,sketch_b,0.50\nvit_b,sketch_b,0.50\nr18,photo_a,0.90\nr50,photo_a,0.85\n")
MODELS = "name,family,params\nr18,resnet,11\nr50,resnet,25\nvit_b,vit,86\n"


def cli(db: str | None, *args: str) -> Result:
    return CliRunner().invoke(main, [*(["--db", db] if db else []), *args])


def dump(db: str) -> dict:
    """The whole graph; opening the database and reading it also shows it still answers."""
    with graphrec.open(db) as g:
        return g.dump()


def refused(db: str, *args: str, says: tuple[str, ...]) -> Result:
    """Run the CLI with a hostile input: exit 2, every phrase of `says` in the message,
    the graph unchanged afterwards (and the server answering). The message is stderr, or
    under --json the JSON error object on stdout (its error and its problems' reasons),
    with nothing at all on stderr."""
    before = dump(db)
    result = cli(db, *args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    message = result.stderr
    if "--json" in args:
        assert result.stderr == "", result.stderr
        error = json.loads(result.stdout)
        message = "\n".join([error["error"], *(p["reason"] for p in error["problems"])])
    for phrase in says:
        assert phrase in message, (phrase, message)
    assert dump(db) == before
    return result


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    write_csv(folder / "records.csv", RECORDS)
    write_csv(folder / "models.csv", MODELS)
    return folder


@pytest.fixture
def db(tmp_path: Path, inputs: Path) -> str:
    """An embedded database holding 3 models, 3 datasets and 7 observed edges."""
    path = str(tmp_path / "db")
    result = cli(path, "ingest", str(inputs / "records.csv"), "--models",
                 str(inputs / "models.csv"))
    assert result.exit_code == 0, result.output
    return path


# -- 1a: loader spec keys that cannot be property names --------------------------------------

SPEC_HEAD = '[records]\nfile = "records.csv"\n[models]\nfile = "models.csv"\n'


@pytest.mark.parametrize(("body", "key"), [
    ('constants = { "a`b" = 1 }', 'models.constants."a`b"'),
    ('columns = { "fam`ily" = "family" }', 'models.columns."fam`ily"'),
    ('constants = { "x}) DETACH DELETE (n" = 1 }', 'models.constants."x}) DETACH DELETE (n"'),
    ('constants = { "a.b" = 1 }', 'models.constants."a.b"'),
    ('constants = { "" = 1 }', 'models.constants.""'),
    ('constants = { "1st" = 1 }', 'models.constants.1st'),
    ('columns = { "my size" = "params" }', 'models.columns."my size"'),
    ('list_separator = { "tags`" = ";" }', 'models.list_separator."tags`"'),
    ('constants = { name = "x" }', "models.constants.name"),
])
def test_spec_keys_that_cannot_be_properties_are_refused(db: str, inputs: Path, body: str,
                                                         key: str) -> None:
    spec = write_csv(inputs / "bad.toml", SPEC_HEAD + body + "\n")
    result = refused(db, "ingest", "--spec", str(spec), says=(f"loader spec {spec}", key))
    if key != "models.constants.name":
        assert "letters, digits and underscores" in result.stderr


def test_a_zoo_built_in_python_with_a_bad_property_key_writes_nothing(db: str) -> None:
    before = dump(db)
    zoo = ZooData(models={"r18": Entity({"a`b": 1}, ("notebook", 3))})
    with graphrec.open(db) as g, pytest.raises(ValidationError, match=r"notebook:3: .*'a`b' "
                                                "cannot be a property name"):
        g.ingest(zoo)
    assert dump(db) == before


# -- 1b: score inputs that are not arrays, or arrays the math cannot use ---------------------


def _labels(folder: Path) -> Path:
    np.save(folder / "y.npy", np.arange(40) % 3)
    return folder / "y.npy"


def _features() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(40, 5))


def _write_npz(path: Path) -> None:
    with path.open("wb") as fh:  # a file object: numpy adds no .npz suffix
        np.savez(fh, feats=_features())


def _write_text(path: Path) -> None:
    path.write_text("0.1,0.2,0.3\n0.4,0.5,0.6\n")


def _write_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps(_features()))


def _write_torch(path: Path) -> None:
    torch.save(torch.from_numpy(_features()), path)


def _write_truncated(path: Path) -> None:
    np.save(path, _features())
    path.write_bytes(path.read_bytes()[:150])


def _write_objects(path: Path) -> None:
    np.save(path, np.array([{"a": 1}] * 40, dtype=object), allow_pickle=True)


@pytest.mark.parametrize(("write", "says"), [
    (_write_npz, ("not a .npy array file", ".npz archive holding feats",
                  "numpy.load('f.npy')['feats']")),
    (_write_text, ("not a .npy array file", "holds text", "numpy.save")),
    (_write_pickle, ("not a .npy array file", "Python pickle", "numpy.save")),
    (_write_torch, ("not a .npy array file", "zip archive", "numpy.save")),
    (_write_truncated, ("not a readable .npy array", "truncated", "numpy.save")),
    (_write_objects, ("Python objects", "does not unpickle")),
    (lambda p: np.save(p, _features() * 1e200), ("magnitude", "overflows", "scale")),
    (lambda p: np.save(p, _features() * 1e-200), ("smaller than 1e-100", "underflow")),
    (lambda p: np.save(p, np.zeros((40, 5))), ("all zero", "LogME and H-Score",
                                                "feature extraction")),
    (lambda p: np.save(p, np.full((40, 5), 3.5)), ("same for every sample",
                                                   "feature extraction")),
])
def test_score_refuses_features_it_cannot_use(db: str, tmp_path: Path, write,
                                              says: tuple[str, ...]) -> None:
    features = tmp_path / "f.npy"
    write(features)
    refused(db, "score", "r18", "sketch_a", "--features", str(features),
            "--labels", str(_labels(tmp_path)), says=(str(features), *says))


def test_score_still_takes_features_with_some_constant_columns(db: str, tmp_path: Path) -> None:
    """The constant-feature refusal is about features that cannot vary at all."""
    features = tmp_path / "f.npy"
    np.save(features, np.c_[_features(), np.zeros(40)])
    result = cli(db, "score", "r18", "sketch_a", "--features", str(features), "--labels",
                 str(_labels(tmp_path)), "--json")
    assert result.exit_code == 0, result.output
    assert {r["metric"] for r in json.loads(result.stdout)["scores"]} == {"logme", "hscore"}


# -- 2: scores naming a model that nothing defines ----------------------------------------


def test_a_score_matrix_naming_an_unknown_model_writes_nothing(db: str, inputs: Path) -> None:
    scores = write_csv(inputs / "LogME.csv", ",sketch_a,new_set\nr50,1.5,2.0\nr5O,1.0,\n"
                       "vit_bb,0.5,0.1\n")
    refused(db, "ingest", "--scores", str(scores), "--metric", "logme", says=(
        f"{scores}:3: model 'r5O' has scores but is not in the graph", "close names: r50",
        f"{scores}:4: model 'vit_bb'", "vit_b", "--models models.csv",
        "nothing was written"))


def test_a_spec_score_table_naming_an_unknown_model_writes_nothing(db: str,
                                                                   inputs: Path) -> None:
    write_csv(inputs / "new.csv", "model,dataset,accuracy\nswin_t,photo_b,0.7\n")
    write_csv(inputs / "scores.csv", ",photo_b\nswin_t,1.0\nswim_t,2.0\n")
    spec = write_csv(inputs / "spec.toml", '[records]\nfile = "new.csv"\n[[scores]]\n'
                     'file = "scores.csv"\nlayout = "matrix"\nmetric = "leep"\n')
    refused(db, "ingest", "--spec", str(spec), "--json", says=("model 'swim_t'",
                                                               "close names: swin_t"))


def test_scores_may_name_new_datasets_and_models_the_same_input_defines(db: str,
                                                                        inputs: Path) -> None:
    zoo = inputs / "zoo"
    write_csv(zoo / "records.csv", "model,dataset,accuracy\nswin_t,photo_b,0.7\n")
    write_csv(zoo / "scores_leep.csv", "model,dataset,value\nswin_t,photo_b,1.0\n"
              "r18,brand_new,0.5\n")
    result = cli(db, "ingest", str(zoo), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scores"]["created"] == 2


def test_a_python_built_zoo_scoring_an_unknown_model_writes_nothing(db: str) -> None:
    before = dump(db)
    with graphrec.open(db) as g, pytest.raises(ValidationError, match=r"model 'r19'.*r18"):
        g.ingest(ZooData(scores={("r19", "sketch_a", "logme"): 1.0}))
    assert dump(db) == before


# -- 3a: a malformed percentage ------------------------------------------------------------


@pytest.mark.parametrize("cell", ["87.5%%", "%", "%5"])
def test_a_malformed_percentage_is_not_called_too_large(db: str, inputs: Path,
                                                        cell: str) -> None:
    records = write_csv(inputs / "pct.csv", f"model,dataset,accuracy\nr18,photo_b,{cell}\n")
    result = refused(db, "ingest", str(records), says=(
        f"{records}:2: column 'accuracy'", "is not a number or a percentage", "87.5%"))
    assert "too large" not in result.stderr


# -- 1d: a benchmark --out that cannot take the results, refused before the run -------------


def _out_case(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """An --out folder of the given kind, and what the refusal must say."""
    if kind == "a file":
        out = write_csv(tmp_path / "results.txt", "x\n")
        return out, "this is a file"
    if kind == "under a file":
        write_csv(tmp_path / "plain", "x\n")
        return tmp_path / "plain" / "sub" / "results", f"{tmp_path / 'plain'} is a file"
    if kind == "cannot be written":
        return Path("/proc/graphrec-results"), "cannot write in /proc"
    (tmp_path / "out" / "table.md").mkdir(parents=True)
    return tmp_path / "out", f"{tmp_path / 'out' / 'table.md'} is a folder"


@pytest.mark.parametrize("kind", ["a file", "under a file", "cannot be written",
                                  "a results file is a folder"])
def test_benchmark_refuses_an_unwritable_out_before_running(tmp_path: Path, inputs: Path,
                                                            kind: str) -> None:
    import time

    out, says = _out_case(kind, tmp_path)
    started = time.monotonic()
    # 10 repetitions of 100,000 epochs would run for hours: the refusal must come first.
    result = cli(None, "benchmark", "--data", str(inputs / "records.csv"), "--methods",
                 "scg4trf", "--epochs", "100000", "--seeds", "10", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert f"--out {out}" in result.stderr and says in result.stderr, result.stderr
    assert time.monotonic() - started < 60
    assert not list(tmp_path.rglob(".graphrec-out-check*"))  # the write probe is gone


def test_benchmark_suite_refuses_a_folder_where_its_summary_goes(tmp_path: Path) -> None:
    (tmp_path / "out" / "suite.md").mkdir(parents=True)
    (tmp_path / "zoos").mkdir()
    result = cli(None, "benchmark", "--suite", str(tmp_path / "zoos"), "--out",
                 str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'out' / 'suite.md'} is a folder" in result.stderr


# -- 1c: predictor checkpoints that are truncated, foreign or malicious ----------------------


class _RunsCode:
    """A pickle that would run a shell command when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def trained(db: str) -> tuple[str, Path]:
    """`db` with a mean predictor trained by the CLI; (database, its checkpoint file)."""
    result = cli(db, "train", "--model", "mean", "--json")
    assert result.exit_code == 0, result.output
    checkpoint = Path(json.loads(result.stdout)["checkpoint"])
    assert checkpoint.is_file()
    return db, checkpoint


def _corrupt(kind: str, path: Path, marker: Path) -> None:
    good = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("these are not the weights you are looking for\n")
    elif kind == "foreign torch file":
        torch.save({"weights": torch.ones(3)}, path)
    elif kind == "foreign state":
        torch.save({"predictor": "mean", "config": {}, "state": {"bogus": 1}}, path)
    elif kind == "torch file that runs code":
        torch.save({"predictor": "mean", "payload": _RunsCode(marker)}, path)
    elif kind == "pickle that runs code":
        path.write_bytes(pickle.dumps(_RunsCode(marker)))
    elif kind == "missing":
        path.unlink()


@pytest.mark.parametrize("kind", ["truncated", "empty", "text", "foreign torch file",
                                  "foreign state", "torch file that runs code",
                                  "pickle that runs code", "missing"])
@pytest.mark.parametrize("command", [("predict",), ("predict", "--stream"),
                                     ("recommend", "new_set", "--num-classes", "10")])
def test_an_unusable_checkpoint_says_which_file_and_to_retrain(
        trained: tuple[str, Path], tmp_path: Path, kind: str, command: tuple[str, ...]) -> None:
    db, checkpoint = trained
    marker = tmp_path / "code-ran"
    _corrupt(kind, checkpoint, marker)
    result = refused(db, *command, says=(str(checkpoint), "graphrec train",
                                         "graphrec predictors drop"))
    if "runs code" in kind:
        assert "run as code" in result.stderr
    assert not marker.exists(), "loading a checkpoint must never run code"


# -- 4: checkpoint files are private, and a copied database reads its own -------------------


def test_checkpoints_are_private_whatever_the_umask(db: str) -> None:
    import os
    import stat

    old = os.umask(0)
    try:
        result = cli(db, "train", "--model", "mean", "--json")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    checkpoint = Path(json.loads(result.stdout)["checkpoint"])
    assert stat.S_IMODE(checkpoint.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(checkpoint.stat().st_mode) == 0o600
    assert [p.name for p in checkpoint.parent.iterdir()] == [checkpoint.name]  # no leftovers


def _stored_checkpoints(db: str) -> list[str]:
    with graphrec.open(db) as g:
        return [r["properties"]["checkpoint"] for r in g.query("admin/dump-nodes")
                if "Predictor" in r["labels"]]


def _copy_without_original(db: str, tmp_path: Path) -> str:
    """Stop the server, copy the database folder, delete the original's checkpoints."""
    import shutil

    assert cli(db, "db", "stop", "--force").exit_code == 0
    copy = tmp_path / "copy"
    shutil.copytree(db, copy)
    shutil.rmtree(Path(db) / "predictors")
    return str(copy)


def test_a_copied_database_reads_its_own_checkpoints(trained: tuple[str, Path],
                                                     tmp_path: Path) -> None:
    db, checkpoint = trained
    assert _stored_checkpoints(db) == [f"predictors/{checkpoint.name}"]  # relative
    copy = _copy_without_original(db, tmp_path)
    for command in (("recommend", "new_set", "--num-classes", "10", "--json"),
                    ("predict", "--json"), ("recommend", "photo_a", "--json")):
        result = cli(copy, *command)
        assert result.exit_code == 0, (command, result.output)
    listed = json.loads(cli(copy, "predictors", "list", "--json").stdout)
    assert listed[0]["checkpoint"] == str(Path(copy) / "predictors" / checkpoint.name)


def test_an_old_absolute_checkpoint_path_still_loads(trained: tuple[str, Path],
                                                     tmp_path: Path) -> None:
    """Predictor nodes written before paths were relative hold the absolute path: it still
    loads in place, and a copy reads its own file of that name, not the original's."""
    db, checkpoint = trained
    with graphrec.open(db) as g:
        g.store.run("MATCH (p:Predictor) SET p.checkpoint = $path",
                    {"path": str(checkpoint)}, write=True)
    assert cli(db, "recommend", "new_set", "--num-classes", "10").exit_code == 0
    copy = _copy_without_original(db, tmp_path)
    result = cli(copy, "recommend", "new_set", "--num-classes", "10")
    assert result.exit_code == 0, result.output
    dropped = json.loads(cli(copy, "predictors", "drop", checkpoint.stem, "--json").stdout)
    assert dropped["checkpoint_deleted"]
    assert not (Path(copy) / "predictors" / checkpoint.name).exists()


# -- 3b: an internal query run as a user query ---------------------------------------------


@pytest.mark.parametrize("name", ["ingest/upsert-models", "predict/clear-predictions",
                                  "admin/dump-nodes"])
def test_an_internal_query_is_not_a_user_query(db: str, name: str) -> None:
    refused(db, "query", name, "-p", "rows=x", says=(
        f"{name!r} is not a user query", "cypher/queries/", "graphrec query --list",
        "top-models"))
    shown = cli(db, "query", name, "--show")  # reading its Cypher stays possible
    assert shown.exit_code == 0 and shown.stdout.startswith(f"// {name.split('/')[1]}:")


# -- 3c: --json covers Click's own errors too ----------------------------------------------


@pytest.mark.parametrize(("args", "says"), [
    (("recommend", "photo_a", "--k", "notanumber", "--json"), "Invalid value for '--k'"),
    (("--json", "stats"), "No such option '--json'"),
    (("recommend", "--json"), "Missing argument 'DATASET'"),
    (("ingest", "--accuracy-unit", "permille", "--json"), "Invalid value for '--accuracy-unit'"),
    (("train", "--epochs", "0", "--json"), "Invalid value for '--epochs'"),
    (("stats", "--jsn", "--json"), "No such option '--jsn'"),
    (("nosuch", "--json"), "No such command 'nosuch'"),
])
def test_option_errors_under_json_are_json(db: str, args: tuple[str, ...], says: str) -> None:
    result = refused(db, *args, says=(says, "--help"))
    error = json.loads(result.stdout)  # the whole of stdout is the JSON error
    assert error["problems"] == [] and says in error["error"] and "--help" in error["error"]
    assert "Usage:" not in result.output


def test_option_errors_without_json_keep_the_usage_text(db: str) -> None:
    result = cli(db, "recommend", "photo_a", "--k", "notanumber")
    assert result.exit_code == 2
    assert "Usage:" in result.stderr and "Invalid value for '--k'" in result.stderr


# -- 1e and 3d: the embedded server killed, and the error saying so -------------------------


def _graphrec(db: Path, *args: str):
    import os
    import subprocess
    import sys

    from .conftest import REPO

    env = {**os.environ, "OMP_NUM_THREADS": "1", "GRAPHREC_SERVER_IDLE": "0",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "graphrec", "--db", str(db), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_a_server_killed_while_a_new_database_is_set_up_recovers(tmp_path: Path,
                                                                 inputs: Path) -> None:
    """The first command on a new folder starts the server and makes the schema; the
    server is SIGKILLed at moments spread over that. That command fails with a message
    (no traceback); the next one recovers: the schema complete, the data written."""
    import contextlib
    import os
    import signal
    import time

    from graphrec.store import UNIQUE_KEYS
    from graphrec.store.process import is_server

    interrupted = 0
    for n, delay in enumerate((0.0, 0.02, 0.05, 0.08, 0.11, 0.15)):
        db = tmp_path / f"new{n}"
        first = _graphrec(db, "stats")
        pidfile = db / "falkordb" / "redis.pid"
        while not pidfile.exists() and first.poll() is None:
            time.sleep(0.002)
        time.sleep(delay)
        with contextlib.suppress(OSError, ValueError):  # the command was done already
            text = pidfile.read_text()
            # Only a whole pid, and only our server: never another process.
            if text.endswith("\n") and is_server(int(text)):
                os.kill(int(text), signal.SIGKILL)
        _, err = first.communicate(timeout=120)
        assert "Traceback" not in err, err
        assert first.returncode in (0, 1), err
        if first.returncode == 1:
            interrupted += 1
            assert err.startswith("error: ") and "run the command again" in err.lower(), err
            assert "SIGKILL" in err or "went away" in err or "lost the connection" in err
        second = _graphrec(db, "ingest", str(inputs / "records.csv"), "--json")
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0 and "Traceback" not in err, err
        assert json.loads(out)["transfers"]["created"] == 7
        with graphrec.open(str(db)) as g:
            made = {r["label"] for r in g.store.run("CALL db.constraints() YIELD label "
                                                    "RETURN label")}
        assert made == set(UNIQUE_KEYS), "the set-up was finished by the next command"
    assert interrupted >= 3, "the kills must land during the set-up"


def _kill_mid_session(db: str, sig: int, log_lines: tuple[str, ...] = ()) -> str:
    """Open the database, kill its server with `sig`, then use it: the error's text."""
    import os
    import time

    from graphrec.errors import StoreError
    from graphrec.store.process import pid_alive

    with pytest.raises(StoreError) as caught, graphrec.open(db) as g:
        pid = g.store.server_pid
        os.kill(pid, sig)
        deadline = time.monotonic() + 30
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if log_lines:
            with (Path(db) / "falkordb" / "server.log").open("a") as log:
                log.writelines(f"{pid}:M 01 Dec 2026 12:00:00.000 # {line}\n"
                               for line in log_lines)
        g.stats()
    return str(caught.value)


def test_a_crashed_server_is_named_in_the_next_error(db: str) -> None:
    import signal

    before = dump(db)
    message = _kill_mid_session(db, signal.SIGSEGV)
    assert "has stopped" in message and "crashed by signal: 11" in message
    assert str(Path(db) / "falkordb" / "server.log") in message
    assert "run the command again" in message.lower()
    assert dump(db) == before  # the next open starts a new server: nothing lost


def test_a_killed_server_is_named_in_the_next_error(db: str) -> None:
    import signal

    before = dump(db)
    message = _kill_mid_session(db, signal.SIGKILL)
    assert "has stopped" in message and "SIGKILL" in message and "says nothing" in message
    assert dump(db) == before


def test_a_full_disk_in_the_server_log_is_quoted(db: str) -> None:
    """What redis logs when an append-only write fails (its own words, from aof.c), after
    which it exits: filling the real disk is not an option in a test."""
    import signal

    message = _kill_mid_session(db, signal.SIGKILL, (
        "Error writing to the AOF file: No space left on device",
        "Can't recover from AOF write error when the AOF fsync policy is 'always'. "
        "Exiting..."))
    assert "No space left on device" in message and "Can't recover from AOF" in message
    assert "Free disk space" in message
