"""The embedded server outlives one command, stops when idle, and recovers from kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import graphrec
from graphrec import server
from graphrec.cli import main
from graphrec.store.process import pid_alive

from .conftest import write_csv

RECORDS = "model,dataset,accuracy\nr18,a,0.5\nr50,a,0.7\nr18,b,0.6\n"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A database whose server stays up for 60 s of quiet; stopped at the end."""
    monkeypatch.setenv("GRAPHREC_SERVER_IDLE", "60")
    folder = tmp_path / "db"
    with graphrec.open(str(folder)) as g:
        g.ingest(write_csv(tmp_path / "records.csv", RECORDS))
    yield folder
    server.stop(str(folder), force=True)


def _state(db: Path) -> dict:
    return json.loads((db / "falkordb" / "server.json").read_text())


def _cli(db: Path, *args: str):
    return CliRunner().invoke(main, ["--db", str(db), *args])


def _graphrec(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphrec", "--db", str(db), *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_second_process_reuses_the_running_server(db: Path) -> None:
    pid = _state(db)["pid"]
    assert pid_alive(pid), "the server outlived the ingest"
    for _ in range(2):
        proc = _graphrec(db, "stats", "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["relationships"]["TRANSFERS_TO"] == 3
        assert _state(db)["pid"] == pid, "the same server answered"
    status = json.loads(_cli(db, "db", "status", "--json").stdout)
    assert status["running"] and status["pid"] == pid and status["idle_s"] == 60
    assert status["watchdog"] and status["in_use"] is False
    assert "idle stop: after 60 s" in _cli(db, "db", "status").stdout
    stopped = _cli(db, "db", "stop")
    assert stopped.exit_code == 0 and stopped.stdout.strip() == "stopped"
    assert not pid_alive(pid) and not (db / "falkordb" / "server.json").exists()
    assert _cli(db, "db", "stop").stdout.strip() == "not running"
    assert json.loads(_cli(db, "db", "status", "--json").stdout) == {"running": False}
    # The stop folded the log into a snapshot: the next start loads it, data intact.
    assert list((db / "falkordb" / "appendonly").glob("*.base.rdb"))
    with graphrec.open(str(db)) as g:
        assert g.stats()["relationships"]["TRANSFERS_TO"] == 3


def test_the_watchdog_stops_an_idle_server(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = _cli(db, "db", "start", "--idle", "1.5", "--json")
    assert started.exit_code == 0, started.output
    info = json.loads(started.stdout)
    assert info["idle_s"] == 1.5 and info["watchdog"]
    pid = info["pid"]
    with graphrec.open(str(db)) as g:  # a user holding it for longer than the idle time
        time.sleep(4)
        assert pid_alive(pid), "never stopped under a user"
        assert g.stats()["relationships"]["TRANSFERS_TO"] == 3
    # The watchdog clears the state file after the server has exited, not before: a
    # client that came in between would otherwise start a second server on the same files.
    state_file = db / "falkordb" / "server.json"
    assert _wait(lambda: not pid_alive(pid) and not state_file.exists(), 30), "stopped once idle"
    assert _graphrec(db, "stats").returncode == 0  # and a new one starts on demand


def test_kill_9_of_the_server_recovers_with_every_write(db: Path) -> None:
    first = _state(db)
    os.kill(first["pid"], signal.SIGKILL)
    assert _wait(lambda: not pid_alive(first["pid"]), 10)
    proc = _graphrec(db, "stats", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["relationships"]["TRANSFERS_TO"] == 3
    second = _state(db)
    assert second["pid"] != first["pid"] and pid_alive(second["pid"])
    assert _wait(lambda: not pid_alive(first["watchdog"]), 15), \
        "the old watchdog leaves with its server"
    assert pid_alive(second["watchdog"])


def test_db_stop_refuses_while_in_use_unless_forced(db: Path) -> None:
    with graphrec.open(str(db)):
        refused = _cli(db, "db", "stop")
        assert refused.exit_code == 2 and "in use by another graphrec" in refused.stderr
        assert pid_alive(_state(db)["pid"])
        assert _cli(db, "db", "stop", "--force").exit_code == 0
    assert not (db / "falkordb" / "server.json").exists()


def test_db_commands_need_an_embedded_database(tmp_path: Path) -> None:
    for args in (["db", "status"], ["db", "stop"], ["db", "start"]):
        result = CliRunner().invoke(main, ["--db", "redis://127.0.0.1:1", *args])
        assert result.exit_code == 2 and "embedded database only" in result.stderr
    zero = CliRunner().invoke(main, ["--db", str(tmp_path / "x"), "db", "start", "--idle", "0"])
    assert zero.exit_code == 2
    bad = CliRunner().invoke(main, ["--db", str(tmp_path / "x"), "stats"],
                             env={"GRAPHREC_SERVER_IDLE": "soon"})
    assert bad.exit_code != 0 and "GRAPHREC_SERVER_IDLE" in bad.stderr
