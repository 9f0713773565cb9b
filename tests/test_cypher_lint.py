"""`make cypher-lint`: Neo4j's own Cypher front end (cypher-lint/lint.mjs) accepts every query
graphrec sends to Neo4j, and rejects what Neo4j 5 would."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import REPO

LINT = REPO / "cypher-lint"
FRONT_END = LINT / "node_modules" / "@neo4j-cypher" / "language-support"


@pytest.fixture(scope="module")
def node() -> str:
    """node, with the front end installed; under CI (where `make test` installs it first)
    a missing one fails instead of skipping."""
    node = shutil.which("node")
    why = ("node is not on PATH" if node is None else
           None if FRONT_END.is_dir() else "cypher-lint/node_modules is missing")
    if why is None:
        assert node is not None
        return node
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}, under CI=true: `make test` installs it (`make cypher-lint`)")
    pytest.skip(f"{why}: run `make cypher-lint` (needs node and npm) to install Neo4j's "
                "Cypher front end, or `npm ci --prefix cypher-lint`")


def lint(node: str, items: list[dict[str, str]]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([node, str(LINT / "lint.mjs")], input=json.dumps(items),
                          capture_output=True, text=True, timeout=300, check=False)


def collected() -> list[dict[str, str]]:
    out = subprocess.run([sys.executable, str(LINT / "collect.py")], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    return json.loads(out)


def problems(result: subprocess.CompletedProcess[str], source: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(f"{source}:")]


def test_the_collector_finds_every_query() -> None:
    sources = {item["source"] for item in collected()}
    files = {p.relative_to(REPO).as_posix() for p in (REPO / "cypher").rglob("*.cypher")}
    assert files and files <= sources
    for name in ("graphrec.store.neo4j.schema_statements()[graphrec_model_name]",
                 "graphrec.store.neo4j.SHOW_SCHEMA[0]", "graphrec.store.SCHEMA_PROBE",
                 "graphrec.serve.HEALTH_QUERY"):
        assert name in sources


def test_no_inline_cypher_outside_the_collector() -> None:
    """A query written inline (`store.run("MATCH ...")`) would escape the lint: it belongs in
    cypher/ or in a module constant that cypher-lint/collect.py reads. FalkorDB's own
    statements are not Neo4j's (collect.py says why)."""
    inline = []
    for path in sorted((REPO / "graphrec").rglob("*.py")):
        if path.relative_to(REPO).as_posix() == "graphrec/store/falkordb.py":
            continue
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr in ("run", "execute", "execute_query") and call.args
                    and isinstance(call.args[0], ast.Constant | ast.JoinedStr)):
                inline.append(f"{path.relative_to(REPO)}:{call.lineno}")
    assert not inline, inline


def test_neo4j_accepts_every_graphrec_query(node: str) -> None:
    result = lint(node, collected())
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 errors" in result.stderr


PLANTED = {
    # FalkorDB accepts it; Neo4j 5 removed exists() on a property
    "planted/exists.cypher": "// a comment line first\n// @param k int = 5  how many\n"
                             "MATCH (n:Model) WHERE exists(n.family) RETURN n.name AS name "
                             "LIMIT $k",
    "planted/unknown-function.cypher": "MATCH (n) RETURN nosuch(n.name) AS x",
    "planted/apoc.cypher": "RETURN apoc.coll.sum([1, 2]) AS x",  # a plugin, not Neo4j
    "planted/falkordb-procedure.cypher": "CALL db.meta.stats()",  # FalkorDB's, not Neo4j's
    "planted/neo4j-4-constraint.cypher": "CREATE CONSTRAINT ON (n:Model) ASSERT n.name "
                                         "IS UNIQUE",
    "planted/two-statements.cypher": "RETURN 1 AS a; RETURN 2 AS b",
}
ACCEPTED = {  # Neo4j's real built-ins, case-insensitive as in Neo4j
    "planted/built-ins.cypher": "MATCH (n) WHERE n.name = $name RETURN toLower(n.name) AS a, "
                                "coalesce(n.family, 'x') AS b, count(*) AS c, "
                                "collect(elementId(n)) AS d, TOUPPER('x') AS e",
    "planted/built-in-procedure.cypher": "CALL db.labels() YIELD label RETURN label",
    "planted/trailing-semicolon.cypher": "RETURN 1 AS ok;",
}


def test_neo4j_rejects_what_neo4j_5_would(node: str) -> None:
    items = [{"source": s, "text": t} for s, t in {**PLANTED, **ACCEPTED}.items()]
    result = lint(node, items)
    assert result.returncode == 1, result.stdout + result.stderr
    for source in PLANTED:
        assert any(": error: " in p for p in problems(result, source)), (source, result.stdout)
    for source in ACCEPTED:
        assert problems(result, source) == [], result.stdout
    exists = problems(result, "planted/exists.cypher")
    assert exists[0].startswith("planted/exists.cypher:3:23: error: ")  # LINE:COL in the file
    assert "IS NOT NULL" in exists[0]
    assert "nosuch" in problems(result, "planted/unknown-function.cypher")[0]


def test_files_as_arguments(node: str, tmp_path) -> None:
    good = REPO / "cypher" / "queries" / "top-models.cypher"
    bad = tmp_path / "bad.cypher"
    bad.write_text(PLANTED["planted/exists.cypher"], encoding="utf-8")
    result = subprocess.run([node, str(LINT / "lint.mjs"), str(good), str(bad)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1
    assert [p.split(":")[0] for p in result.stdout.splitlines()] == [str(bad)]
