"""`graphrec.config.resolve`: which database an address (or its absence) names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import graphrec
from graphrec.config import DEFAULT_GRAPH, Target, resolve


def test_no_value_is_the_embedded_database_under_graphrec_home() -> None:
    home = Path(os.environ["GRAPHREC_HOME"])  # set per test by conftest
    target = resolve()
    assert target.kind == "embedded"
    assert target.path == home.resolve()
    assert target.safe_uri == f"embedded://{home.resolve()}"
    assert resolve(None) == target
    assert resolve("") == target  # an empty value is no value


def test_no_graphrec_home_uses_the_user_data_folder(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAPHREC_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    target = resolve()
    assert target.kind == "embedded"
    assert target.path == (tmp_path / "xdg" / "graphrec").resolve()


def test_graphrec_home_with_a_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GRAPHREC_HOME", "~/gr-home")
    assert resolve().path == (tmp_path / "gr-home").resolve()


def test_plain_folder_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = resolve(str(tmp_path / "my db"))
    assert (absolute.kind, absolute.path) == ("embedded", tmp_path / "my db")
    assert absolute.graph == DEFAULT_GRAPH

    monkeypatch.chdir(tmp_path)
    relative = resolve("rel/db")
    assert (relative.kind, relative.path) == ("embedded", tmp_path / "rel" / "db")

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve("~/gdb").path == tmp_path / "home" / "gdb"


@pytest.mark.parametrize("scheme", ["embedded", "file"])
def test_embedded_url(tmp_path: Path, scheme: str) -> None:
    target = resolve(f"{scheme}://{tmp_path}/store")
    assert target.kind == "embedded"
    assert target.path == tmp_path / "store"
    assert target.safe_uri == f"embedded://{tmp_path}/store"


def test_embedded_url_without_a_folder_is_a_usage_error() -> None:
    with pytest.raises(graphrec.UsageError, match=r"embedded:// needs a folder"):
        resolve("embedded://")


def test_redis_url_graph_and_password_kept_but_never_shown() -> None:
    target = resolve("redis://:secret@host:6380/mygraph")
    assert target.kind == "falkordb"
    assert target.graph == "mygraph"
    assert target.password == "secret"
    assert target.uri == "redis://:secret@host:6380/mygraph"  # the client needs it
    assert target.safe_uri == "redis://host:6380/mygraph"
    assert "secret" not in target.safe_uri


def test_redis_target_repr_hides_the_password() -> None:
    target = resolve("redis://:secret@host:6380/mygraph")
    assert "secret" not in repr(target)


def test_bolt_target_repr_hides_the_password() -> None:
    assert "hunter2" not in repr(resolve("bolt://user:hunter2@host:7687"))


def test_redis_url_details() -> None:
    # Without a path the default graph; `?graph=` wins over the path; percent-escapes decoded.
    assert resolve("redis://host:6379").graph == DEFAULT_GRAPH
    assert resolve("redis://host:6379/").graph == DEFAULT_GRAPH
    assert resolve("redis://host/g1?graph=g2").graph == "g2"
    escaped = resolve("redis://bob:p%40ss@host:6379/g")
    assert (escaped.user, escaped.password) == ("bob", "p@ss")
    assert escaped.safe_uri == "redis://host:6379/g"
    via_query = resolve("rediss://host:6380/g?password=qsecret")
    assert via_query.password == "qsecret"
    assert "qsecret" not in via_query.safe_uri
    for alias in ("falkor://host:1/g", "falkordb://host:1/g", "REDIS://host:1/g"):
        assert (resolve(alias).kind, resolve(alias).graph) == ("falkordb", "g"), alias


def test_unix_socket_url() -> None:
    target = resolve("unix:///tmp/x.sock")
    assert target.kind == "falkordb"
    assert target.graph == DEFAULT_GRAPH  # the path is the socket, not a graph name
    assert target.safe_uri == "unix:///tmp/x.sock"
    named = resolve("unix:///tmp/x.sock?graph=zoo&password=sockpw")
    assert (named.graph, named.password) == ("zoo", "sockpw")
    assert named.safe_uri == "unix:///tmp/x.sock"


def test_bolt_url_with_credentials_in_the_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_USER", "env-user")
    monkeypatch.setenv("NEO4J_PASSWORD", "env-pw")
    target = resolve("bolt://user:pw@host:7687")
    assert target.kind == "neo4j"
    assert (target.user, target.password) == ("user", "pw")  # the URI wins over the env
    assert target.safe_uri == "bolt://host:7687"
    assert target.database is None


def test_neo4j_url_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_USER", "alice")
    monkeypatch.setenv("NEO4J_PASSWORD", "wonderland")
    monkeypatch.delenv("NEO4J_DATABASE", raising=False)
    target = resolve("neo4j://host")
    assert (target.kind, target.user, target.password) == ("neo4j", "alice", "wonderland")
    assert target.safe_uri == "neo4j://host"
    assert "wonderland" not in target.safe_uri


def test_neo4j_defaults_and_database(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(var, raising=False)
    bare = resolve("neo4j://host:7687")
    assert (bare.user, bare.password, bare.database) == ("neo4j", None, None)

    chosen = resolve("neo4j+s://host:7687?database=movies")
    assert (chosen.kind, chosen.database) == ("neo4j", "movies")
    assert chosen.safe_uri == "neo4j+s://host:7687"

    monkeypatch.setenv("NEO4J_DATABASE", "fromenv")
    assert resolve("bolt://host").database == "fromenv"
    assert resolve("bolt://host?database=movies").database == "movies"


def test_unknown_scheme_lists_the_accepted_forms() -> None:
    with pytest.raises(graphrec.UsageError) as info:
        resolve("mysql://x")
    message = str(info.value)
    assert "'mysql'" in message
    for form in ("folder", "redis://", "bolt://", "neo4j://"):
        assert form in message, form
    assert info.value.exit_code == 2


def test_graphrec_db_is_used_when_no_value_is_given(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHREC_DB", "redis://envhost:6390/envgraph")
    from_env = resolve()
    assert (from_env.kind, from_env.graph) == ("falkordb", "envgraph")
    assert from_env.safe_uri == "redis://envhost:6390/envgraph"
    # An explicit value wins over the environment.
    explicit = resolve(str(tmp_path / "db"))
    assert (explicit.kind, explicit.path) == ("embedded", tmp_path / "db")
    monkeypatch.setenv("GRAPHREC_DB", "mysql://bad")
    with pytest.raises(graphrec.UsageError, match="GRAPHREC_DB"):
        resolve()


def test_blank_graphrec_db_means_no_value(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRAPHREC_DB", "   ")
    assert resolve().path == Path(os.environ["GRAPHREC_HOME"]).resolve()


def test_a_target_passes_through_open(tmp_path: Path) -> None:
    target = Target(kind="embedded", path=tmp_path / "via-target")
    with graphrec.open(target) as g:
        assert g.location == f"embedded://{tmp_path / 'via-target'}"
    assert (tmp_path / "via-target" / "falkordb").is_dir()
