"""The `cypher/` files: a lint of their headers and parameters, `Query.bind`, and each user
query's answer on a small graph, on every backend."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import graphrec
from graphrec import queries
from graphrec.resources import resource_dir

from .conftest import REPO, write_csv

CYPHER = REPO / "cypher"
FILES = sorted(CYPHER.rglob("*.cypher"))
NAMES = [p.relative_to(CYPHER).with_suffix("").as_posix() for p in FILES]
USER_QUERIES = {"top-models", "top-datasets", "similar-datasets", "family-models", "coverage",
                "coverage-summary"}
_DOLLAR = re.compile(r"\$([A-Za-z_]\w*)")


def _body_params(text: str) -> set[str]:
    """`$name` tokens outside `//` comment lines."""
    return {m for line in text.splitlines() if not line.lstrip().startswith("//")
            for m in _DOLLAR.findall(line)}


# -- the files -------------------------------------------------------------------------------

def test_the_checkout_is_what_the_package_reads() -> None:
    assert resource_dir("cypher").resolve() == CYPHER.resolve()
    assert len(FILES) >= 19
    assert {n.split("/")[0] for n in NAMES} == {"admin", "export", "ingest", "predict", "queries"}


@pytest.mark.parametrize("name", NAMES)
def test_file_parses_with_a_description(name: str) -> None:
    path = CYPHER / f"{name}.cypher"
    q = queries.parse(name, path)
    assert q.name == name and q.path == path
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(f"// {name.split('/')[-1]}: "), "first line: '// NAME: what'"
    assert len(q.description) > 15 and q.description.endswith("."), q.description
    assert not q.description.startswith("@param")
    assert _body_params(q.text) or "MATCH" in q.text or "UNWIND" in q.text


@pytest.mark.parametrize("name", NAMES)
def test_declared_params_equal_used_params(name: str) -> None:
    q = queries.get(name)
    declared = [p.name for p in q.params]
    assert len(declared) == len(set(declared)), f"{name}: a parameter is declared twice"
    assert _body_params(q.text) == set(declared), (
        f"{name}: used {sorted(_body_params(q.text))}, declared {sorted(declared)}")
    # A misspelt `@param` line (e.g. `@param k integer`) would be dropped silently.
    param_lines = [line for line in q.text.splitlines() if "@param" in line]
    assert len(param_lines) == len(declared), f"{name}: an @param line does not parse"
    for p in q.params:
        assert p.doc, f"{name}: parameter {p.name} has no description"


@pytest.mark.parametrize("name", NAMES)
def test_query_text_is_the_file_byte_for_byte(name: str) -> None:
    assert queries.get(name).text.encode("utf-8") == (CYPHER / f"{name}.cypher").read_bytes()


def test_lint_helper_catches_undeclared_and_unused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.cypher",
                     "// bad: a query whose header lies.\n"
                     "// @param unused string  never used\n"
                     "// a comment may mention $ghost\n"
                     "MATCH (m:Model {name: $name}) RETURN m LIMIT $k\n")
    q = queries.parse("queries/bad", path)
    assert _body_params(q.text) == {"name", "k"}
    assert {p.name for p in q.params} == {"unused"}


def test_user_queries() -> None:
    found = queries.user_queries()
    assert set(found) >= USER_QUERIES
    assert set(found) == {n.removeprefix("queries/") for n in NAMES if n.startswith("queries/")}
    assert found["top-models"] is queries.get("top-models")
    assert found["top-models"].short_name == "top-models"
    assert found["top-models"].name == "queries/top-models"
    assert found["top-models"].signature() == "dataset:string, k:int=5"
    assert found["coverage-summary"].signature() == ""


def test_get_suggests_a_close_name() -> None:
    with pytest.raises(graphrec.UsageError) as info:
        queries.get("top-modelz")
    assert "no query named 'top-modelz'" in str(info.value)
    assert "Did you mean: top-models" in str(info.value)
    assert "graphrec query --list" in str(info.value)
    with pytest.raises(graphrec.UsageError) as info:
        queries.get("zzzz")
    assert "Did you mean" not in str(info.value)


def test_get_finds_admin_and_ingest_queries_by_full_name() -> None:
    assert queries.get("admin/node-counts").name == "admin/node-counts"
    assert queries.get("ingest/upsert-transfers").short_name == "ingest/upsert-transfers"
    with pytest.raises(graphrec.UsageError):
        queries.get("node-counts")  # only user queries answer to a short name


# -- bind ----------------------------------------------------------------------------------

KITCHEN_SINK = """\
// kitchen-sink: one parameter of every type, to test bind.
// @param name string  a name
// @param n int = 3  a count
// @param ratio float = 0.5  a ratio
// @param flag bool = false  a flag
// @param tags list = a,b  some tags
// @param maybe string = null  optional, no default
RETURN $name AS name, $n AS n, $ratio AS ratio, $flag AS flag, $tags AS tags, $maybe AS maybe
"""


@pytest.fixture
def sink(tmp_path: Path) -> queries.Query:
    return queries.parse("queries/kitchen-sink", write_csv(tmp_path / "k.cypher", KITCHEN_SINK))


def test_parse_reads_types_defaults_and_docs(sink: queries.Query) -> None:
    assert sink.description == "one parameter of every type, to test bind."
    got = {p.name: (p.type, p.required, p.default, p.doc) for p in sink.params}
    assert got == {
        "name": ("string", True, None, "a name"),
        "n": ("int", False, 3, "a count"),
        "ratio": ("float", False, 0.5, "a ratio"),
        "flag": ("bool", False, False, "a flag"),
        "tags": ("list", False, ["a", "b"], "some tags"),
        "maybe": ("string", False, None, "optional, no default"),
    }


def test_bind_applies_defaults(sink: queries.Query) -> None:
    assert sink.bind({"name": "x"}) == {"name": "x", "n": 3, "ratio": 0.5, "flag": False,
                                        "tags": ["a", "b"], "maybe": None}


def test_bind_converts_text_by_type(sink: queries.Query) -> None:
    bound = sink.bind({"name": "42", "n": "7", "ratio": "1.25", "flag": "yes",
                       "tags": " p, q ,, r ", "maybe": "m"})
    assert bound == {"name": "42", "n": 7, "ratio": 1.25, "flag": True, "tags": ["p", "q", "r"],
                     "maybe": "m"}
    assert type(bound["name"]) is str and type(bound["n"]) is int
    assert type(bound["ratio"]) is float
    for text, value in (("TRUE", True), ("1", True), ("no", False), ("0", False)):
        assert sink.bind({"name": "x", "flag": text})["flag"] is value, text
    assert sink.bind({"name": "x", "tags": ""})["tags"] == []
    # Values that are not text (the Python API) pass through as they are.
    assert sink.bind({"name": "x", "n": 9, "tags": ["z"]})["n"] == 9


@pytest.mark.parametrize(("param", "value"), [("n", "abc"), ("n", "2.5"), ("ratio", "1.2.3"),
                                              ("flag", "maybe")])
def test_bind_rejects_bad_values_naming_the_parameter(sink: queries.Query, param: str,
                                                      value: str) -> None:
    with pytest.raises(graphrec.UsageError) as info:
        sink.bind({"name": "x", param: value})
    message = str(info.value)
    assert f"parameter {param} must be" in message
    assert repr(value) in message
    assert "'kitchen-sink'" in message and "queries/" not in message


def test_bind_unknown_and_missing_parameters() -> None:
    top = queries.get("top-models")
    with pytest.raises(graphrec.UsageError) as info:
        top.bind({"dataset": "d", "bogus": "1"})
    message = str(info.value)
    assert "query 'top-models' has no parameter 'bogus'" in message
    assert "it takes: dataset:string, k:int=5" in message
    assert "queries/" not in message

    with pytest.raises(graphrec.UsageError) as info:
        top.bind({"k": "2"})
    message = str(info.value)
    assert "query 'top-models' needs --param dataset=VALUE" in message
    assert "the dataset's name" in message
    assert "queries/" not in message

    with pytest.raises(graphrec.UsageError) as info:
        queries.get("coverage-summary").bind({"k": "1"})
    assert "it takes: no parameters" in str(info.value)


def test_bind_bad_int_on_a_real_query() -> None:
    with pytest.raises(graphrec.UsageError) as info:
        queries.get("top-models").bind({"dataset": "d", "k": "abc"})
    assert str(info.value) == "query 'top-models': parameter k must be int, got 'abc'"
    assert info.value.exit_code == 2
    assert queries.get("top-models").bind({"dataset": "d", "k": "2"}) == {"dataset": "d", "k": 2}


# -- running the files on every backend ---------------------------------------------------

_PLACEHOLDER = {"string": "nothing-here", "int": 1, "float": 0.5, "bool": False, "list": [],
                "map": {}}


def test_every_file_runs_on_an_empty_graph(g: graphrec.Graphrec) -> None:
    """The database's own parser accepts every file (empty lists make the writes no-ops)."""
    for name in NAMES:
        q = queries.get(name)
        assert q.writes == name.startswith((
            "ingest/upsert", "predict/create", "predict/clear", "predict/write",
            "predict/adjust", "predict/delete", "predict/finish", "predict/forget",
            "predict/set-current")), name
        params = {p.name: _PLACEHOLDER[p.type] for p in q.params}
        rows = g.store.run(q.text, params, write=q.writes)
        assert isinstance(rows, list), name
    # Only create-predictor writes with placeholders: one Predictor node from an empty map.
    assert g.stats() == {"nodes": {"Predictor": 1}, "relationships": {}}


@pytest.fixture
def small(g: graphrec.Graphrec, tmp_path: Path) -> graphrec.Graphrec:
    """4 models (vit_l never measured) x 4 datasets (photo_b never measured), 6 observed."""
    records = write_csv(tmp_path / "records.csv", "model,dataset,accuracy\n"
                        "r18,sketch_a,0.60\nr50,sketch_a,0.80\nvit_b,sketch_a,0.70\n"
                        "r18,sketch_b,0.50\nvit_b,sketch_b,0.50\nr18,photo_a,0.90\n")
    models = write_csv(tmp_path / "models.csv", "name,family,params,top1\n"
                       "r18,resnet,11,0.70\nr50,resnet,25,0.76\nvit_b,vit,86,0.81\n"
                       "vit_l,vit,304,0.85\n")
    datasets = write_csv(tmp_path / "datasets.csv", "name,domain,num_classes,labels\n"
                         "sketch_a,sketch,2,cat;dog\nsketch_b,sketch,2,cat;emu\n"
                         "photo_a,photo,2,cat;dog\nphoto_b,photo,1,owl\n")
    summary = g.ingest(records, models=models, datasets=datasets)
    assert (summary.models.created, summary.datasets.created, summary.transfers.created) == (
        4, 4, 6)
    return g


def test_top_models(small: graphrec.Graphrec) -> None:
    assert small.query("top-models", dataset="sketch_a", k=2) == [
        {"model": "r50", "family": "resnet", "accuracy": 0.8, "runs": 1},
        {"model": "vit_b", "family": "vit", "accuracy": 0.7, "runs": 1}]
    # A tie is broken by model name; text parameters are converted like the CLI's.
    tie = small.query("top-models", {"dataset": "sketch_b", "k": "5"})
    assert [(r["model"], r["accuracy"]) for r in tie] == [("r18", 0.5), ("vit_b", 0.5)]
    assert small.query("top-models", dataset="photo_b") == []
    assert small.query("top-models", dataset="no-such-dataset") == []


def test_top_datasets(small: graphrec.Graphrec) -> None:
    rows = small.query("top-datasets", model="r18")
    assert rows == [
        {"dataset": "photo_a", "domain": "photo", "accuracy": 0.9, "runs": 1},
        {"dataset": "sketch_a", "domain": "sketch", "accuracy": 0.6, "runs": 1},
        {"dataset": "sketch_b", "domain": "sketch", "accuracy": 0.5, "runs": 1}]
    assert [r["dataset"] for r in small.query("top-datasets", model="r18", k=1)] == ["photo_a"]
    assert small.query("top-datasets", model="vit_l") == []


def test_family_models(small: graphrec.Graphrec) -> None:
    resnet = small.query("family-models", family="resnet")
    assert [(r["model"], r["params"], r["datasets"]) for r in resnet] == [
        ("r18", 11, 3), ("r50", 25, 1)]
    assert resnet[0]["top1"] == pytest.approx(0.70)
    assert resnet[0]["mean_accuracy"] == pytest.approx((0.6 + 0.5 + 0.9) / 3)
    assert resnet[1]["mean_accuracy"] == pytest.approx(0.8)
    vit = small.query("family-models", family="vit")
    assert [(r["model"], r["datasets"]) for r in vit] == [("vit_b", 2), ("vit_l", 0)]
    assert vit[1]["mean_accuracy"] is None  # never measured: no mean, not 0
    assert small.query("family-models", family="mlp") == []


def test_coverage(small: graphrec.Graphrec) -> None:
    rows = small.query("coverage")
    assert [(r["dataset"], r["observed"], r["models"]) for r in rows] == [
        ("photo_b", 0, 4), ("photo_a", 1, 4), ("sketch_b", 2, 4), ("sketch_a", 3, 4)]
    assert [r["coverage"] for r in rows] == pytest.approx([0.0, 0.25, 0.5, 0.75])
    assert [r["dataset"] for r in small.query("coverage", k=2)] == ["photo_b", "photo_a"]


def test_coverage_summary(small: graphrec.Graphrec) -> None:
    (row,) = small.query("coverage-summary")
    assert {k: row[k] for k in ("models", "datasets", "observed", "pairs")} == {
        "models": 4, "datasets": 4, "observed": 6, "pairs": 16}
    assert row["coverage"] == pytest.approx(0.375)


def test_similar_datasets(small: graphrec.Graphrec) -> None:
    rows = small.query("similar-datasets", dataset="sketch_a")
    assert rows == [
        {"dataset": "photo_a", "domain": "photo", "shared_labels": 2, "same_domain": False},
        {"dataset": "sketch_b", "domain": "sketch", "shared_labels": 1, "same_domain": True}]
    assert [r["dataset"] for r in small.query("similar-datasets", dataset="sketch_a", k=1)] == [
        "photo_a"]
    # Only the domain in common: still similar, with no shared labels.
    assert small.query("similar-datasets", dataset="photo_b") == [
        {"dataset": "photo_a", "domain": "photo", "shared_labels": 0, "same_domain": True}]


def test_coverage_summary_on_an_empty_graph_is_one_row_of_zeros(g: graphrec.Graphrec) -> None:
    assert g.query("coverage-summary") == [
        {"models": 0, "datasets": 0, "observed": 0, "pairs": 0, "coverage": 0.0}]


def test_negative_limit_is_a_usage_error() -> None:
    from graphrec import UsageError, queries

    with pytest.raises(UsageError, match="k must be 0 or more, got -1"):
        queries.get("top-models").bind({"dataset": "d", "k": "-1"})


def test_malformed_param_line_is_rejected(tmp_path) -> None:
    from graphrec.queries import parse

    bad = tmp_path / "bad.cypher"
    bad.write_text("// bad: a query\n// @param k integer = 5  how many\nRETURN $k\n")
    with pytest.raises(ValueError, match="malformed parameter line"):
        parse("bad", bad)
