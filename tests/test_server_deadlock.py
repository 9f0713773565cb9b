"""A server that deadlocks on a command: killed, started again, nothing committed lost.

SIGSTOP gives a server that, seen from outside, is what FalkorDB's deadlock is: it holds
the connection, uses no CPU and never answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import graphrec
from graphrec.store import embedded, falkordb
from graphrec.store.embedded import EmbeddedServer
from graphrec.store.falkordb import ServerRestarted
from graphrec.store.process import wait_gone
from graphrec.store.stall import StallWatch
from graphrec.synth import generate_zoo

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="the stall watch reads CPU time from /proc")


def _stop(pid: int) -> None:
    """SIGSTOP `pid`, and SIGCONT it after 30 s: were the watch broken, the test's command
    would then answer late and the test fail, instead of waiting for good."""
    os.kill(pid, signal.SIGSTOP)

    def resume() -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGCONT)

    timer = threading.Timer(30, resume)
    timer.daemon = True
    timer.start()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    """A small database, closed, and its stats; stalls are called after 1 s."""
    monkeypatch.setattr(embedded, "STALL_S", 1.0)
    zoo = generate_zoo(6, 40, 0.5, 1, tmp_path / "zoo")
    with graphrec.open(str(tmp_path / "db")) as g:
        g.ingest(zoo.files["records"], models=zoo.files["models"])
        return tmp_path / "db", g.stats()


def test_a_read_on_a_deadlocked_server_is_answered_by_a_new_one(db) -> None:
    path, before = db
    with graphrec.open(str(path)) as g:
        stuck = g.store.server_pid
        _stop(stuck)
        with pytest.warns(UserWarning, match=r"deadlocked .* started it again"):
            assert g.stats() == before
        assert g.store.server_pid != stuck and wait_gone(stuck, 10)
        assert g.stats() == before  # the new connection serves the next command


def test_a_write_on_a_deadlocked_server_says_to_run_it_again(db) -> None:
    path, before = db
    with graphrec.open(str(path)) as g:
        g.store.run("MERGE (n:Note {key: 'first'})", write=True)  # the schema is in place
        stuck = g.store.server_pid
        _stop(stuck)
        with pytest.warns(UserWarning, match="deadlocked"), \
                pytest.raises(ServerRestarted, match=r"deadlocked during a write .* run the "
                                                     "command again"):
            g.store.run("MERGE (n:Note {key: 'second'})", write=True)
        assert wait_gone(stuck, 10)
        notes = g.store.run("MATCH (n:Note) RETURN n.key AS key ORDER BY key")
        assert [r["key"] for r in notes] == ["first"]  # committed kept, the stuck one not
        g.store.run("MERGE (n:Note {key: 'second'})", write=True)  # run again: it works
        assert len(g.store.run("MATCH (n:Note) RETURN n")) == 2
        assert g.stats()["relationships"] == before["relationships"]


def test_the_schema_is_created_again_after_a_deadlock_on_create_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case seen in CI: a CREATE INDEX sent to a fresh server that never answered."""
    monkeypatch.setattr(embedded, "STALL_S", 1.0)
    zoo = generate_zoo(6, 40, 0.5, 1, tmp_path / "zoo")
    tolerate = falkordb.FalkorStore._tolerate_exists
    stuck: list[int] = []

    state = tmp_path / "db" / "falkordb" / "server.json"

    def stop_before_the_first(action) -> bool:
        if not stuck:
            stuck.append(json.loads(state.read_text())["pid"])
            _stop(stuck[0])
        return tolerate(action)

    monkeypatch.setattr(falkordb.FalkorStore, "_tolerate_exists",
                        staticmethod(stop_before_the_first))
    with pytest.warns(UserWarning, match="deadlocked"):
        g = graphrec.open(str(tmp_path / "db"))  # the schema comes with the first connection
    with g:
        assert stuck and wait_gone(stuck[0], 10) and g.store.server_pid != stuck[0]
        g.ingest(zoo.files["records"], models=zoo.files["models"])
        indexes = g.store.run("CALL db.indexes() YIELD label RETURN collect(label) AS l")
        assert {"Model", "Dataset"} <= set(indexes[0]["l"])
        assert g.stats()["relationships"]["TRANSFERS_TO"] == len(
            zoo.files["records"].read_text().splitlines()) - 1


def test_a_deadlocked_server_left_behind_is_replaced(db, monkeypatch) -> None:
    """A user stopped (Ctrl+C, kill) while its command waited leaves the deadlocked server
    up: the next one finds it not answering and idle, kills it and starts another."""
    path, before = db
    monkeypatch.setenv("GRAPHREC_SERVER_IDLE", "60")  # the server outlives its users
    with graphrec.open(str(path)) as g:
        stuck = g.store.server_pid
    _stop(stuck)
    with pytest.warns(UserWarning, match="did not answer and used no CPU"):
        g = graphrec.open(str(path))
    with g:
        assert g.store.server_pid != stuck and g.stats() == before
    assert wait_gone(stuck, 10)
    assert EmbeddedServer(path).stop(force=True)  # the new one, kept up by the idle time


@pytest.mark.parametrize("when", ["at the first ping", "after a ping that answered"])
def test_db_stop_ends_a_deadlocked_server(db, monkeypatch, when: str) -> None:
    """SHUTDOWN gets no answer from a deadlocked server, as SIGTERM gets no effect: the
    stop kills it once it has done nothing for the stall time, and the data is all there.
    Found at the stop's first ping; or, deadlocked just after it, when SHUTDOWN times out."""
    path, before = db
    monkeypatch.setenv("GRAPHREC_SERVER_IDLE", "60")
    monkeypatch.setattr(embedded, "SHUTDOWN_TIMEOUT_S", 1.0)
    with graphrec.open(str(path)) as g:
        stuck = g.store.server_pid
    _stop(stuck)
    sent: list[str] = []
    with pytest.MonkeyPatch.context() as patch, \
            pytest.warns(UserWarning, match="deadlocked.*killed it and stopped it"):
        if when == "after a ping that answered":  # for this stop only
            patch.setattr(EmbeddedServer, "_ping", lambda *args, **kwargs: "ok")
        patch.setattr(embedded, "compact", lambda client: sent.append("compact"))
        assert EmbeddedServer(path).stop()
    # Found at the ping, it is killed before any command that would wait out its timeout.
    assert sent == ([] if when == "at the first ping" else ["compact"])
    assert wait_gone(stuck, 10) and not (path / "falkordb" / "server.json").exists()
    with graphrec.open(str(path)) as g:
        assert g.stats() == before
    assert EmbeddedServer(path).stop(force=True)


SLEEP = "import time; time.sleep(30)"
SOCKET = "/tmp/graphrec-test-watch.sock"


@pytest.mark.parametrize(("program", "title", "killed"), [
    (SLEEP, f"unixsocket:{SOCKET}", True),                  # ours, waits, uses nothing
    ("import time\nend = time.time() + 30\nwhile time.time() < end: pass",
     f"unixsocket:{SOCKET}", False),                         # ours, working
    (SLEEP, "unixsocket:/tmp/another.sock", False),          # its pid, someone else's now
])
def test_the_watch_kills_only_our_server_doing_nothing(program: str, title: str,
                                                       killed: bool) -> None:
    proc = subprocess.Popen([sys.executable, "-c", program, title])  # the title, as redis's
    watch = StallWatch(proc.pid, 1.0, SOCKET)
    try:
        with watch.waiting():
            deadline = time.monotonic() + 4
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
        assert (proc.poll() == -signal.SIGKILL) is killed and watch.fired is killed
    finally:
        watch.close()
        proc.kill()
        proc.wait()


def test_the_watch_leaves_a_quiet_server_alone_while_nothing_waits() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SLEEP, f"unixsocket:{SOCKET}"])
    watch = StallWatch(proc.pid, 0.5, SOCKET)
    try:
        with watch.waiting():
            pass  # one quick command starts the watch
        time.sleep(2)
        assert proc.poll() is None and not watch.fired
    finally:
        watch.close()
        proc.kill()
        proc.wait()
