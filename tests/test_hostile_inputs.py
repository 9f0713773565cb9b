"""Hostile inputs, as a user would give them (issue 12): each one ends in exit code 2 and a
message saying what is wrong, where and how to fix it; the graph is left exactly as it was
and the database still answers. Real files, the real embedded database, the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import graphrec
from graphrec.cli import main
from graphrec.errors import ValidationError
from graphrec.loaders.build import Entity, ZooData

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
    the graph unchanged afterwards (and the server answering)."""
    before = dump(db)
    result = cli(db, *args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    for phrase in says:
        assert phrase in result.stderr, (phrase, result.stderr)
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
