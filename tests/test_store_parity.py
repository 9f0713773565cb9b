"""Defects of the Neo4j path found by reading it (issue 12), tested where they can run: on
a real FalkorDB server, with the Neo4j driver's own types, and through the real CLI."""

from __future__ import annotations

import socket
import time
import warnings
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from click.testing import CliRunner

import graphrec
from graphrec.cli import main
from graphrec.config import resolve
from graphrec.store import connect, falkordb
from graphrec.store.neo4j import _entity, _strip_credentials, schema_statements


def _server(url: str) -> tuple[int, str]:
    parts = urlsplit(url)
    return parts.port, parts.password


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture
def graph_name() -> Iterator[str]:
    import uuid

    yield f"parity_{uuid.uuid4().hex[:8]}"


def test_an_ipv6_host_keeps_its_brackets() -> None:
    target = resolve("bolt://u:p@[::1]:7687")
    assert target.safe_uri == "bolt://[::1]:7687"
    assert _strip_credentials(target.uri) == "bolt://[::1]:7687"
    assert falkordb._client_url(resolve("redis://:pw@[fe80::1]:6379/g")
                                ) == "redis://:pw@[fe80::1]:6379"


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_falkordb_server_over_ipv6_with_the_password_in_the_query(
        falkordb_server: str, graph_name: str) -> None:
    port, password = _server(falkordb_server)
    for url in (f"redis://:{password}@[::1]:{port}/{graph_name}",
                f"redis://[::1]:{port}/{graph_name}?password={password}"):
        with connect(url) as store:
            store.run("MERGE (:Model {name: 'm'})", write=True)
            assert store.run("MATCH (m:Model) RETURN m.name AS n") == [{"n": "m"}]
            assert "[::1]" in store.location and password not in store.location


def test_the_password_in_the_query_is_sent(falkordb_server: str, graph_name: str) -> None:
    port, password = _server(falkordb_server)
    with connect(f"redis://127.0.0.1:{port}/{graph_name}?password={password}") as store:
        assert store.run("RETURN 1 AS ok") == [{"ok": 1}]
    with pytest.raises(graphrec.StoreError, match="refused the password"):
        connect(f"redis://127.0.0.1:{port}/{graph_name}?password=wrong")


@pytest.mark.parametrize("url, shown", [
    ("redis://:pw@127.0.0.1:notaport", "'notaport'"),
    ("bolt://u:pw@h:99999", "'99999'"),
    ("bolt://[::1", "brackets"),
])
def test_a_bad_port_or_host_is_a_usage_error(url: str, shown: str, tmp_path) -> None:
    result = CliRunner().invoke(main, ["--db", url, "stats"])
    assert result.exit_code == 2, result.output
    assert shown in result.output and "pw" not in result.output


def test_a_reader_may_query_a_database_it_cannot_change(
        falkordb_server: str, graph_name: str, tmp_path) -> None:
    """Schema is made before the first write, after looking: a user allowed only to read
    (Redis ACL here, an Aura reader on Neo4j) can query; an administrator runs db init."""
    port, password = _server(falkordb_server)
    admin = redis.Redis(port=port, password=password)
    admin.execute_command("ACL", "SETUSER", "reader", "on", ">readpw", "~*", "&*",
                          "+@read", "+@connection", "+info", "+graph.ro_query", "+graph.list",
                          "+graph.explain")
    try:
        url = f"redis://:{password}@127.0.0.1:{port}/{graph_name}"
        init = CliRunner().invoke(main, ["--db", url, "db", "init", "--json"])
        assert init.exit_code == 0, init.output
        with connect(url) as store:
            store.run("MERGE (:Dataset {name: 'd'})", write=True)
        reader = f"redis://reader:readpw@127.0.0.1:{port}/{graph_name}"
        result = CliRunner().invoke(main, ["--db", reader, "query", "--json", "top-models",
                                           "-p", "dataset=d"])
        assert result.exit_code == 0, result.output
        assert CliRunner().invoke(main, ["--db", reader, "stats"]).exit_code == 0
        # the schema is there, so init has nothing to make, and nothing to be refused
        assert CliRunner().invoke(main, ["--db", reader, "db", "init"]).exit_code == 0
        records = tmp_path / "r.csv"
        records.write_text("model,dataset,accuracy\nm,d,0.5\n")
        refused = CliRunner().invoke(main, ["--db", reader, "ingest", str(records)])
        assert refused.exit_code == 1, refused.output
        assert ("no permissions" in refused.output and refused.exception is None) or isinstance(
            refused.exception, SystemExit)
    finally:
        admin.execute_command("ACL", "DELUSER", "reader")


def test_the_neo4j_schema_is_looked_at_before_it_is_made() -> None:
    names = [name for name, _ in schema_statements()]
    assert len(names) == len(set(names))
    for name, statement in schema_statements():
        assert f" {name} IF NOT EXISTS " in statement


def test_graph_entities_keep_their_labels_on_both_backends(tmp_path) -> None:
    from neo4j.graph import Graph, Node, Path

    graph = Graph()  # the driver's own types, as it builds them from a result
    n = Node(graph, "4:x:1", 1, {"Model", "Extra"}, {"name": "a"})
    f = Node(graph, "4:x:2", 2, {"Family"}, {"name": "f"})
    r = graph.relationship_type("IN_FAMILY")(graph, "5:x:3", 3, {"w": 2})
    r._start_node, r._end_node = n, f
    want_node = {"labels": ["Extra", "Model"], "properties": {"name": "a"}}
    want_rel = {"type": "IN_FAMILY", "properties": {"w": 2}}
    assert _entity(n) == want_node and _entity(r) == want_rel
    with connect(str(tmp_path / "db")) as store:
        store.run("CREATE (:Model:Extra {name: 'a'})-[:IN_FAMILY {w: 2}]->(:Family {name: 'f'})",
                  write=True)
        row = store.run("MATCH p = (m:Model)-[r]->(f) RETURN m, r, p, [m] AS ms")[0]
    assert row["m"] == want_node and row["ms"] == [want_node] and row["r"] == want_rel
    assert row["p"] == {"nodes": [want_node, {"labels": ["Family"],
                                              "properties": {"name": "f"}}],
                        "relationships": [want_rel]}
    assert _entity(Path(n, r)) == row["p"]  # the same form from either backend


def test_the_remote_write_lock_lasts_as_long_as_its_holder(
        falkordb_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a 0.3 s expiry, a holder busy for 1.2 s keeps the lock: another writer cannot
    take it meanwhile. A lock found gone at release is a warning, not an error blaming
    another process (the write committed)."""
    monkeypatch.setattr(falkordb, "LOCK_TTL_S", 0.3)
    port, password = _server(falkordb_server)
    client, other = (redis.Redis(port=port, password=password) for _ in range(2))
    key = "graphrec:write-lock:parity-test"

    def lock(c: redis.Redis):
        return c.lock(key, timeout=0.3, blocking_timeout=1, thread_local=False)

    taken = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with falkordb._renewed(lock(client)):
            deadline = time.monotonic() + 1.2
            while time.monotonic() < deadline:
                probe = lock(other)
                taken.append(probe.acquire(blocking=False))
                if taken[-1]:
                    probe.release()
                time.sleep(0.05)
    assert len(taken) > 10 and not any(taken)
    assert other.get(key) is None  # released
    with pytest.warns(RuntimeWarning, match="lapsed"), falkordb._renewed(lock(client)):
        other.delete(key)  # as if this process had stalled past the expiry
