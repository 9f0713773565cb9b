"""Every input a user can get wrong: a clear error, exit code 2, and an untouched graph.

Each API test first ingests a small valid zoo (`seeded`), then feeds a bad input that also
holds valid rows naming *new* models and datasets, so a partial write would show up in
`g.dump()`. The CLI tests do the same against one embedded database folder per test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import graphrec
from graphrec import Problem, UsageError, ValidationError
from graphrec.cli import main

from .conftest import write_csv

HEADER = "model,dataset,accuracy\n"
# Valid rows naming things the seed does not hold: written, they would change the dump.
NEW_ROWS = "m3,d3,0.4\nm4,d3,0.45\n"

SEED_RECORDS = HEADER + "m1,d1,0.5\nm2,d1,0.6\nm1,d2,0.7\n"
SEED_MODELS = "name,family,params\nm1,resnet,1000\nm2,vit,2000\n"
SEED_DATASETS = "name,domain,num_classes,labels\nd1,sketch,2,cat;dog\nd2,photo,3,cat;emu;fox\n"


def _seed_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "seed"
    return {"records": write_csv(folder / "records.csv", SEED_RECORDS),
            "models": write_csv(folder / "models.csv", SEED_MODELS),
            "datasets": write_csv(folder / "datasets.csv", SEED_DATASETS)}


@pytest.fixture
def seeded(g: graphrec.Graphrec, tmp_path: Path) -> dict:
    """Ingest the seed zoo into `g`; return the dump every rejected ingest must leave."""
    files = _seed_files(tmp_path)
    g.ingest(files["records"], models=files["models"], datasets=files["datasets"])
    before = g.dump()
    assert len(before["nodes"]) >= 4 and len(before["relationships"]) >= 3
    return before


@pytest.fixture
def inp(tmp_path: Path) -> Path:
    """The folder for the (bad) input files of one test."""
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


def reject(g: graphrec.Graphrec, before: dict, *args, error: type = ValidationError,
           **kwargs) -> Exception:
    """Ingest must raise `error` and leave the graph exactly as `before`."""
    with pytest.raises(error) as info:
        g.ingest(*args, **kwargs)
    assert g.dump() == before, "a rejected ingest changed the graph"
    return info.value


def only(exc: Exception) -> Problem:
    assert isinstance(exc, ValidationError)
    assert len(exc.problems) == 1, exc.problems
    return exc.problems[0]


def where(exc: Exception) -> list[tuple[str, int | None, str | None]]:
    assert isinstance(exc, ValidationError)
    return [(p.file, p.row, p.column) for p in exc.problems]


def records(inp: Path, body: str, name: str = "records.csv") -> Path:
    return write_csv(inp / name, HEADER + body)


# -- files: missing, folders, empty, header only, encoding --------------------------------------


def test_missing_records_file(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    missing = inp / "nope.csv"
    p = only(reject(g, seeded, missing))
    assert (p.file, p.row, p.column) == (str(missing), None, None)
    assert p.reason == "records file not found"


@pytest.mark.parametrize("role", ["models", "datasets"])
def test_missing_metadata_file(g: graphrec.Graphrec, seeded: dict, inp: Path, role: str) -> None:
    rec = records(inp, NEW_ROWS)
    missing = inp / f"{role}.csv"
    p = only(reject(g, seeded, rec, **{role: missing}))
    assert p.file == str(missing)
    assert p.reason == f"{role} metadata file not found"


def test_folder_given_as_metadata_file(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    rec = records(inp, NEW_ROWS)
    folder = inp / "models"
    folder.mkdir()
    p = only(reject(g, seeded, rec, models=folder))
    assert p.file == str(folder)
    assert "is a folder, expected a CSV file" in p.reason


def test_folder_given_as_records_without_loader(g: graphrec.Graphrec, seeded: dict,
                                                inp: Path) -> None:
    records(inp, NEW_ROWS, name="results.csv")  # with records.csv it would be a zoo folder
    exc = reject(g, seeded, inp, error=UsageError)
    assert not isinstance(exc, ValidationError)
    message = str(exc)
    assert message.startswith(f"{inp} is a folder")
    # ... and it says what to do instead.
    assert "name the records CSV inside it" in message
    assert "--loader NAME" in message and "--spec FILE" in message


@pytest.mark.parametrize("content", [b"", b"  \n\r\n\n"], ids=["0-bytes", "blank-lines"])
def test_empty_file(g: graphrec.Graphrec, seeded: dict, inp: Path, content: bytes) -> None:
    path = inp / "records.csv"
    path.write_bytes(content)
    p = only(reject(g, seeded, path))
    assert p.file == str(path)
    assert p.reason == "records file is empty; expected a header row and data"


def test_bom_only_file_is_reported_as_empty(g: graphrec.Graphrec, seeded: dict,
                                            inp: Path) -> None:
    path = inp / "records.csv"
    path.write_bytes(b"\xef\xbb\xbf")
    p = only(reject(g, seeded, path))
    assert p.file == str(path) and "empty" in p.reason


def test_header_only(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    rec = records(inp, "")
    p = only(reject(g, seeded, rec))
    assert (p.file, p.row) == (str(rec), 1)
    assert p.reason == "records file has a header but no data rows"


def test_header_only_metadata(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    rec = records(inp, NEW_ROWS)
    models = write_csv(inp / "models.csv", "name,family\n")
    p = only(reject(g, seeded, rec, models=models))
    assert (p.file, p.row) == (str(models), 1)
    assert p.reason == "models metadata file has a header but no data rows"


def test_bad_encoding_reports_the_line(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = write_csv(inp / "records.csv", HEADER + NEW_ROWS + "m5,caf\xe9,0.5\nm6,d3,0.1\n",
                     encoding="latin-1")
    p = only(reject(g, seeded, path))
    assert (p.file, p.row) == (str(path), 4)
    assert "not valid utf-8 text" in p.reason
    assert "0xe9" in p.reason
    assert "save the file as UTF-8" in p.reason and 'encoding = "..."' in p.reason


def test_bad_encoding_in_metadata_header(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    rec = records(inp, NEW_ROWS)
    models = write_csv(inp / "models.csv", "name,caf\xe9\nm3,a\nm4,b\n", encoding="latin-1")
    p = only(reject(g, seeded, rec, models=models))
    assert (p.file, p.row) == (str(models), 1)
    assert "not valid utf-8 text" in p.reason


def test_utf8_bom_is_accepted(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    # The BOM sits right before the first column name: it must not become part of it.
    rec = write_csv(inp / "records.csv", "\ufeff" + HEADER + NEW_ROWS)
    models = write_csv(inp / "models.csv", "\ufeffname,family\nm3,convnext\nm4,convnext\n")
    assert rec.read_bytes().startswith(b"\xef\xbb\xbfmodel,")
    summary = g.ingest(rec, models=models)
    assert summary.transfers.created == 2 and summary.models.created == 2
    rows = g.store.run("MATCH (m:Model)-[:IN_FAMILY]->(f:Family {name: 'convnext'}) "
                       "RETURN m.name AS m ORDER BY m")
    assert [r["m"] for r in rows] == ["m3", "m4"]


# -- columns: missing, near misses, duplicates, ragged rows --------------------------------------


@pytest.mark.parametrize(("header", "missing", "hint"), [
    ("modle,dataset,accuracy", "model", "modle"),
    ("model,datset,accuracy", "dataset", "datset"),
    ("model,dataset,Accuracy", "accuracy", "Accuracy"),
    ("model,dataset,acuracy", "accuracy", "acuracy"),
])
def test_missing_column_did_you_mean(g: graphrec.Graphrec, seeded: dict, inp: Path,
                                     header: str, missing: str, hint: str) -> None:
    path = write_csv(inp / "records.csv", header + "\n" + NEW_ROWS)
    p = only(reject(g, seeded, path))
    assert (p.file, p.row, p.column) == (str(path), 1, missing)
    assert "missing column" in p.reason
    assert f"did you mean {hint!r}?" in p.reason
    assert "The file has: " + ", ".join(repr(h) for h in header.split(",")) in p.reason


def test_all_missing_columns_reported_at_once(g: graphrec.Graphrec, seeded: dict,
                                              inp: Path) -> None:
    path = write_csv(inp / "records.csv", "net,task,score\nm3,d3,0.5\n")
    exc = reject(g, seeded, path)
    assert where(exc) == [(str(path), 1, "model"), (str(path), 1, "dataset"),
                          (str(path), 1, "accuracy")]
    reasons = [p.reason for p in exc.problems]
    assert "the model name" in reasons[0] and "the dataset name" in reasons[1]
    assert "the accuracy" in reasons[2]
    assert all("'net', 'task', 'score'" in r for r in reasons)


def test_duplicated_column_names(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = write_csv(inp / "records.csv", "model,dataset,accuracy,dataset\n"
                                          "m3,d3,0.5,x\nm4,d3,0.4,y\n")
    p = only(reject(g, seeded, path))
    assert (p.file, p.row, p.column) == (str(path), 1, "dataset")
    assert p.reason == "column name appears twice (columns 2 and 4); rename one"


def test_ragged_rows_each_reported(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = records(inp, NEW_ROWS + "m5,d3,0.5,surplus\nm6,d3\nm7,d3,0.2\n")
    exc = reject(g, seeded, path)
    assert where(exc) == [(str(path), 4, None), (str(path), 5, None)]
    assert [p.reason for p in exc.problems] == ["has 4 fields, the header has 3",
                                                "has 2 fields, the header has 3"]


def test_many_ragged_rows_are_summarised(g: graphrec.Graphrec, seeded: dict,
                                         inp: Path) -> None:
    path = records(inp, "".join(f"m{i},d3\n" for i in range(25)))
    exc = reject(g, seeded, path)
    assert isinstance(exc, ValidationError)
    assert [p.row for p in exc.problems[:20]] == list(range(2, 22))
    assert exc.problems[20].reason == "5 more rows have the wrong number of fields"
    assert len(exc.problems) == 21


def test_unterminated_quote(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = records(inp, 'm3,"d3,0.5\nm4,d3,0.4\n')
    p = only(reject(g, seeded, path))
    assert p.file == str(path) and p.row == 3
    assert p.reason.startswith("not readable as CSV")


# -- accuracy values ------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "reason"), [
    ("abc", "'abc' is not a number"),
    ('"0,5"', "'0,5' is not a number"),  # a decimal comma, quoted
    ("NaN", "'NaN' is not a finite number (NaN and infinity are not allowed here)"),
    ("nan", "'nan' is not a finite number (NaN and infinity are not allowed here)"),
    ("inf", "'inf' is not a finite number (NaN and infinity are not allowed here)"),
    ("-Infinity", "'-Infinity' is not a finite number (NaN and infinity are not allowed here)"),
    ("", "is empty; expected a number"),
    ("  ", "is empty; expected a number"),
])
def test_bad_accuracy_value(g: graphrec.Graphrec, seeded: dict, inp: Path, cell: str,
                            reason: str) -> None:
    path = records(inp, NEW_ROWS + f"m5,d3,{cell}\n")
    p = only(reject(g, seeded, path))
    assert (p.file, p.row, p.column) == (str(path), 4, "accuracy")
    assert p.reason == reason


@pytest.mark.parametrize(("cell", "hinted"), [
    ("87.5", True), ("1.5", True), ("100", True), ("150", False), ("-0.1", False),
    ("-87.5", False),
])
def test_accuracy_outside_unit_interval(g: graphrec.Graphrec, seeded: dict, inp: Path,
                                        cell: str, hinted: bool) -> None:
    path = records(inp, NEW_ROWS + f"m5,d3,{cell}\n")
    p = only(reject(g, seeded, path))
    assert (p.file, p.row, p.column) == (str(path), 4, "accuracy")
    assert p.reason.startswith(f"accuracy {cell} is outside [0, 1]")
    # The percent hint only where reading the value as percent would make it valid.
    assert ("--accuracy-unit percent" in p.reason) is hinted
    assert ('unit = "percent"' in p.reason) is hinted


def test_percent_unit_accepts_87_5(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = records(inp, "m3,d3,87.5\nm4,d3,45%\n")
    summary = g.ingest(path, accuracy_unit="percent")
    assert summary.transfers.created == 2
    rows = g.query("top-models", dataset="d3", k=5)
    assert [(r["model"], r["accuracy"]) for r in rows] == [("m3", 0.875), ("m4", 0.45)]
    assert g.dump() != seeded


def test_percent_unit_still_checks_range(g: graphrec.Graphrec, seeded: dict,
                                         inp: Path) -> None:
    path = records(inp, "m3,d3,87.5\nm4,d3,150\n")
    p = only(reject(g, seeded, path, accuracy_unit="percent"))
    assert (p.row, p.column) == (3, "accuracy")
    assert p.reason == "accuracy 150 is outside [0, 1] after normalisation (1.5)."


def test_bad_accuracy_unit_value(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = records(inp, NEW_ROWS)
    exc = reject(g, seeded, path, accuracy_unit="percentage", error=UsageError)
    assert str(exc) == "--accuracy-unit must be 'fraction' or 'percent'"


# -- names ----------------------------------------------------------------------------------------


def test_empty_model_and_dataset_names(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = records(inp, NEW_ROWS + ",d3,0.5\nm5,,0.5\n  ,\t,0.5\n")
    exc = reject(g, seeded, path)
    assert where(exc) == [(str(path), 4, "model"), (str(path), 5, "dataset"),
                          (str(path), 6, "model"), (str(path), 6, "dataset")]
    assert [p.reason for p in exc.problems] == ["empty model name", "empty dataset name",
                                                "empty model name", "empty dataset name"]


def test_empty_name_in_metadata(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    rec = records(inp, NEW_ROWS)
    models = write_csv(inp / "models.csv", "name,family\nm3,a\n,b\nm4,c\n")
    p = only(reject(g, seeded, rec, models=models))
    assert (p.file, p.row, p.column, p.reason) == (str(models), 3, "name", "empty model name")


# -- metadata -------------------------------------------------------------------------------------


def test_conflicting_metadata(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    rec = records(inp, NEW_ROWS)
    models = write_csv(inp / "models.csv", "name,family\nm3,resnet\nm4,vit\nm3,convnext\n")
    p = only(reject(g, seeded, rec, models=models))
    assert (p.file, p.row, p.column) == (str(models), 4, "name")
    assert p.reason == ("conflicting metadata for model 'm3': line 2 says "
                        "{'family': 'resnet'}, this line says {'family': 'convnext'}")


def test_identical_duplicate_metadata_row_is_fine(g: graphrec.Graphrec, seeded: dict,
                                                  inp: Path) -> None:
    rec = records(inp, NEW_ROWS)
    models = write_csv(inp / "models.csv", "name,family\nm3,resnet\nm4,vit\nm3,resnet\n")
    datasets = write_csv(inp / "datasets.csv", "name,labels\nd3,a;b\nd3,a;b\n")
    summary = g.ingest(rec, models=models, datasets=datasets)
    assert (summary.models.created, summary.datasets.created) == (2, 1)


def test_records_naming_absent_metadata(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    rec = records(inp, NEW_ROWS + "m5,d3,0.1\nm5,d4,0.2\n")
    models = write_csv(inp / "models.csv", "name,family\nm3,a\nm4,b\n")
    datasets = write_csv(inp / "datasets.csv", "name,domain\nd3,x\n")
    exc = reject(g, seeded, rec, models=models, datasets=datasets)
    assert isinstance(exc, ValidationError)
    assert {p.file for p in exc.problems} == {str(rec)}
    assert [(p.row, p.reason) for p in exc.problems] == [
        (4, f"model 'm5' is not in {models}; add it there or fix the name (first use on "
            "this row)"),
        (5, f"dataset 'd4' is not in {datasets}; add it there or fix the name (first use on "
            "this row)"),
    ]


@pytest.mark.parametrize(("role", "text", "column", "reason"), [
    ("models", "name,family,params\nm4,b,10\nm3,a,abc\n", "params",
     "'abc' is not a number (property params)"),
    ("models", "name,family,params\nm3,a,10\nm4,b,1.5e3.2\n", "params",
     "'1.5e3.2' is not a number (property params)"),
    ("models", "name,input_size\nm3,224\nm4,224.5\n", "input_size",
     "'224.5' is not a whole number (property input_size)"),
    ("datasets", "name,num_classes\nd3,2.5\n", "num_classes",
     "'2.5' is not a whole number (property num_classes)"),
    ("datasets", "name,train_size\nd3,many\n", "train_size",
     "'many' is not a number (property train_size)"),
    ("models", "name,top1\nm3,0.8\nm4,83.6\n", "top1",
     "top1 83.6 is outside [0, 1]; if it is a percentage, write it as 83.6% (or list top1 "
     "in a spec's percent = [...])"),
])
def test_metadata_typed_column(g: graphrec.Graphrec, seeded: dict, inp: Path, role: str,
                               text: str, column: str, reason: str) -> None:
    rec = records(inp, NEW_ROWS)
    meta = write_csv(inp / f"{role}.csv", text)
    p = only(reject(g, seeded, rec, **{role: meta}))
    bad_line = 3 if role == "models" else 2
    assert (p.file, p.row, p.column) == (str(meta), bad_line, column)
    assert p.reason == reason


def test_whole_float_is_an_int(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    rec = records(inp, NEW_ROWS)
    models = write_csv(inp / "models.csv", "name,params\nm3,2.0\nm4,1e3\n")
    g.ingest(rec, models=models)
    rows = g.store.run("MATCH (m:Model) WHERE m.name IN ['m3', 'm4'] "
                       "RETURN m.name AS m, m.params AS p ORDER BY m")
    assert rows == [{"m": "m3", "p": 2}, {"m": "m4", "p": 1000}]


def test_big_int_metadata_kept_exactly(inp: Path) -> None:
    rec = records(inp, "m3,d3,0.4\n")
    models = write_csv(inp / "models.csv", "name,params\nm3,12345678901234567\n")
    zoo = graphrec.load(rec, models=models)
    assert zoo.models["m3"].props["params"] == 12345678901234567


def test_extra_record_columns_do_not_clobber_edge_properties(inp: Path) -> None:
    rec = records(inp, "m3,d3,0.5\nm3,d3,0.7\n")
    write_csv(rec, "model,dataset,accuracy,accuracy (%),runs,source\n"
                   "m3,d3,0.5,50,5,paper\nm3,d3,0.7,70,5,paper\n")
    try:
        props = graphrec.load(rec).transfer_props(("m3", "d3"))
    except ValidationError as exc:  # rejecting the collision clearly is a fix too
        assert {p.column for p in exc.problems} == {"accuracy (%)", "runs", "source"}
        return
    assert props["accuracy"] == pytest.approx(0.6)
    assert props["runs"] == 2
    assert props["source"] == "records.csv"


# -- several problems at once ----------------------------------------------------------------------


def test_three_bad_rows_three_problems(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = records(inp, "m3,d3,0.4\nm4,d3,x\nm5,d3,0.5\nm6,d3,NaN\n,d3,0.1\nm7,d3,0.9\n")
    exc = reject(g, seeded, path)
    assert where(exc) == [(str(path), 3, "accuracy"), (str(path), 5, "accuracy"),
                          (str(path), 6, "model")]
    message = str(exc)
    assert message.startswith("3 problems found in the input; nothing was written:\n")
    assert f"{path}:3: column 'accuracy': 'x' is not a number" in message
    assert f"{path}:6: column 'model': empty model name" in message


def test_problems_in_several_files_reported_together(g: graphrec.Graphrec, seeded: dict,
                                                     inp: Path) -> None:
    rec = records(inp, NEW_ROWS + "m5,d3,2\n")
    models = write_csv(inp / "models.csv", "name,params\nm3,abc\nm4,1\n")
    datasets = write_csv(inp / "datasets.csv", "name,num_classes\nd3,0.5\n")
    exc = reject(g, seeded, rec, models=models, datasets=datasets)
    assert where(exc) == [(str(rec), 4, "accuracy"), (str(models), 2, "params"),
                          (str(datasets), 2, "num_classes")]


def test_more_than_twenty_problems_all_kept(g: graphrec.Graphrec, seeded: dict,
                                            inp: Path) -> None:
    path = records(inp, "".join(f"m{i},d3,bad{i}\n" for i in range(30)))
    exc = reject(g, seeded, path)
    assert isinstance(exc, ValidationError)
    assert [p.row for p in exc.problems] == list(range(2, 32))
    assert str(exc).endswith("... and 10 more problem(s)")
    assert str(exc).startswith("30 problems found")


# -- loader specs ----------------------------------------------------------------------------------


def _spec(inp: Path, text: str) -> Path:
    return write_csv(inp / "zoo.toml", text)


@pytest.mark.parametrize(("text", "expected"), [
    ('[records]\nfile = "records.csv"\nlayuot = "long"\n',
     "records.layuot: unknown key (did you mean 'layout'?)"),
    ('[record]\nfile = "records.csv"\n', "record: unknown key (did you mean 'records'?)"),
    ('[records]\nfile = "records.csv"\n[models]\nfile = "m.csv"\nkye = "name"\n',
     "models.kye: unknown key (did you mean 'key'?)"),
    ('[records]\nfile = "records.csv"\nlayout = "wide"\n',
     "records.layout: must be one of long, matrix; got 'wide'"),
    ('[records]\nfile = "records.csv"\nunit = "percentage"\n',
     "records.unit: must be one of fraction, percent; got 'percentage'"),
    ('[records]\nfile = "records.csv"\nlayout = "matrix"\nrows = "columns"\n',
     "records.rows: must be one of models, datasets; got 'columns'"),
    ('[records]\nfile = 5\n', "records.file: must be a string, got 5"),
    ('[records]\nfile = "records.csv"\ndelimiter = ";;"\n',
     "records.delimiter: must be one character, got ';;'"),
    ('encoding = "utf-99"\n[records]\nfile = "records.csv"\n',
     "encoding: unknown text encoding 'utf-99'"),
    ('[records]\nfile = "records.csv"\n[datasets]\nfile = "d.csv"\njoin = "position"\n',
     "datasets.join: 'position' pairs dataset rows with the columns of a matrix records file"),
    ('[records]\nfile = "records.csv"\n[models]\npercent = ["family"]\n',
     "models.percent: 'family' is not a number property"),
])
def test_bad_spec(g: graphrec.Graphrec, seeded: dict, inp: Path, text: str,
                  expected: str) -> None:
    records(inp, NEW_ROWS)
    spec = _spec(inp, text)
    exc = reject(g, seeded, inp, spec=spec, error=UsageError)
    assert str(exc).startswith(f"loader spec {spec}: ")
    assert expected in str(exc)


def test_spec_unknown_key_lists_allowed_keys(g: graphrec.Graphrec, seeded: dict,
                                             inp: Path) -> None:
    records(inp, NEW_ROWS)
    spec = _spec(inp, '[records]\nfile = "records.csv"\nlayuot = "long"\n')
    exc = reject(g, seeded, inp, spec=spec, error=UsageError)
    assert "allowed: accuracy, accuracy_unit, dataset, delimiter, file, " in str(exc)


def test_invalid_toml(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    records(inp, NEW_ROWS)
    spec = _spec(inp, '# a comment\n[records\nfile = "records.csv"\n')
    exc = reject(g, seeded, inp, spec=spec, error=UsageError)
    assert str(exc).startswith(f"{spec}: not a valid TOML file: ")
    assert "line 2" in str(exc)


def test_spec_not_found(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    exc = reject(g, seeded, spec=inp / "nope.toml", error=UsageError)
    assert str(exc) == f"loader spec not found: {inp / 'nope.toml'}"


def test_spec_is_a_folder(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    folder = inp / "zoo.toml"
    folder.mkdir()
    exc = reject(g, seeded, spec=folder, error=UsageError)
    assert str(folder) in str(exc)


def test_unknown_builtin_loader(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    exc = reject(g, seeded, inp, loader="domainet", error=UsageError)
    message = str(exc)
    assert message.startswith("no built-in loader named 'domainet'; available: ")
    assert "domainnet" in message and "records" in message
    assert "--spec FILE" in message


def test_loader_and_spec_together(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    records(inp, NEW_ROWS)
    spec = _spec(inp, '[records]\nfile = "records.csv"\n')
    exc = reject(g, seeded, inp, loader="records", spec=spec, error=UsageError)
    assert str(exc) == "give either --loader NAME or --spec FILE, not both"


def test_loader_with_a_file_instead_of_a_folder(g: graphrec.Graphrec, seeded: dict,
                                                inp: Path) -> None:
    rec = records(inp, NEW_ROWS)
    exc = reject(g, seeded, rec, loader="domainnet", error=UsageError)
    assert str(exc).startswith(f"{rec}: with --loader/--spec, PATH is the folder")


def test_spec_columns_absent_from_files(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    records(inp, NEW_ROWS)
    models = write_csv(inp / "models.csv", "name,arch\nm3,a\nm4,b\n")
    spec = _spec(inp, '[records]\nfile = "records.csv"\nmodel = "modle"\naccuracy = "acc"\n'
                      '[models]\nfile = "models.csv"\ncolumns = { family = "archi" }\n')
    exc = reject(g, seeded, inp, spec=spec)
    rec = str(inp / "records.csv")
    assert where(exc) == [(rec, 1, "modle"), (rec, 1, "acc"), (str(models), 1, "archi")]
    reasons = [p.reason for p in exc.problems]
    assert "needed for the model name" in reasons[0] and "did you mean 'model'?" in reasons[0]
    assert "needed for the accuracy" in reasons[1]
    assert "needed for property 'family'" in reasons[2] and "did you mean 'arch'?" in reasons[2]


def test_spec_records_file_missing(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    spec = _spec(inp, '[records]\nfile = "records.csv"\n')
    p = only(reject(g, seeded, spec=spec))
    assert p.file == str(inp / "records.csv")
    assert p.reason == "records file not found"


def test_builtin_loader_on_folder_without_files(g: graphrec.Graphrec, seeded: dict,
                                                inp: Path) -> None:
    exc = reject(g, seeded, inp, loader="records")
    assert [p.reason for p in exc.problems] == [
        "no records file given: pass the CSV of observed accuracies (or set records.file in "
        "the spec)"]


_POSITION_SPEC = ('[records]\nfile = "matrix.csv"\nlayout = "matrix"\n'
                  '[datasets]\nfile = "datasets.csv"\njoin = "position"\n')


def test_join_position_count_mismatch(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    write_csv(inp / "matrix.csv", ",t1,t2,t3\nm3,0.1,0.2,0.3\n")
    datasets = write_csv(inp / "datasets.csv", "name,domain\na,x\nb,y\n")
    spec = _spec(inp, _POSITION_SPEC)
    p = only(reject(g, seeded, inp, spec=spec))
    assert (p.file, p.row) == (str(datasets), 3)
    assert p.reason.startswith("2 dataset rows, but the records matrix has 3 dataset columns")
    assert 'join = "position"' in p.reason


@pytest.mark.parametrize("matrix", [None, ",t1,t2\nm3,0.1,0.2\nm3,0.3,0.4\n"],
                         ids=["matrix-missing", "duplicate-row"])
def test_join_position_no_spurious_count_problem(g: graphrec.Graphrec, seeded: dict,
                                                 inp: Path, matrix: str | None) -> None:
    if matrix is not None:
        write_csv(inp / "matrix.csv", matrix)
    write_csv(inp / "datasets.csv", "name,domain\na,x\nb,y\n")
    p = only(reject(g, seeded, inp, spec=_spec(inp, _POSITION_SPEC)))
    assert p.file == str(inp / "matrix.csv")


# -- matrix layout --------------------------------------------------------------------------------


_MATRIX_SPEC = '[records]\nfile = "matrix.csv"\nlayout = "matrix"\nrows = "models"\n'


def test_matrix_nan_cell(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = write_csv(inp / "matrix.csv", ",t1,t2\nm3,0.1,0.2\nm4,,NaN\n")
    p = only(reject(g, seeded, inp, spec=_spec(inp, _MATRIX_SPEC)))
    assert (p.file, p.row, p.column) == (str(path), 3, "t2")
    assert p.reason == "'NaN' is not a finite number (NaN and infinity are not allowed here)"


def test_matrix_duplicate_row_names(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = write_csv(inp / "matrix.csv", ",t1,t2\nm3,0.1,0.2\nm4,0.3,0.4\nm3,0.5,0.6\n")
    p = only(reject(g, seeded, inp, spec=_spec(inp, _MATRIX_SPEC)))
    assert (p.file, p.row) == (str(path), 4)
    assert p.reason == "model 'm3' has two rows (lines 2 and 4); merge them"


def test_matrix_duplicate_column_names(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = write_csv(inp / "matrix.csv", ",t1,t1\nm3,0.1,0.2\n")
    p = only(reject(g, seeded, inp, spec=_spec(inp, _MATRIX_SPEC)))
    assert (p.file, p.row, p.column) == (str(path), 1, "t1")
    assert "appears twice (columns 2 and 3)" in p.reason


def test_matrix_unnamed_column_and_row(g: graphrec.Graphrec, seeded: dict, inp: Path) -> None:
    path = write_csv(inp / "matrix.csv", "model,t1,\nm3,0.1,0.2\n,0.3,0.4\n")
    exc = reject(g, seeded, inp, spec=_spec(inp, _MATRIX_SPEC))
    assert where(exc) == [(str(path), 1, None), (str(path), 3, "model")]
    assert exc.problems[0].reason.startswith("column 3 has no name in the header")
    assert exc.problems[1].reason == "empty model name"


def test_matrix_percent_hint_and_empty_cells(g: graphrec.Graphrec, seeded: dict,
                                             inp: Path) -> None:
    path = write_csv(inp / "matrix.csv", ",t1,t2\nm3,,87.5\nm4,0.3,\n")
    p = only(reject(g, seeded, inp, spec=_spec(inp, _MATRIX_SPEC)))
    assert (p.file, p.row, p.column) == (str(path), 2, "t2")
    assert "--accuracy-unit percent" in p.reason
    # Empty cells are unobserved pairs, and percent fixes the rest.
    summary = g.ingest(inp, spec=inp / "zoo.toml", accuracy_unit="percent")
    assert summary.transfers.created == 2


# -- the command line ------------------------------------------------------------------------------


class Cli:
    """The real `graphrec` command on one embedded database folder, seeded first."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "db"
        self.runner = CliRunner()
        files = _seed_files(tmp_path)
        seed = self(str(files["records"]), "--models", str(files["models"]),
                    "--datasets", str(files["datasets"]))
        assert seed.exit_code == 0, seed.output
        self.before = self.dump()
        assert len(self.before["nodes"]) >= 4

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(main, ["--db", str(self.db), "ingest", *args])

    def dump(self) -> dict:
        with graphrec.open(str(self.db)) as g:
            return g.dump()

    def rejected(self, *args: str) -> Result:
        """Run `ingest ARGS`; it must exit 2 cleanly and leave the graph unchanged."""
        result = self(*args)
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit), result.exception  # not a crash
        assert "Traceback" not in result.output
        assert self.dump() == self.before
        return result


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_cli_missing_records_file(cli: Cli, inp: Path) -> None:
    missing = inp / "records.csv"
    result = cli.rejected(str(missing))
    assert result.stdout == ""
    assert result.stderr == ("error: 1 problem found in the input; nothing was written:\n"
                             f"  {missing}: records file not found\n")


def test_cli_lists_every_problem_with_file_row_column(cli: Cli, inp: Path) -> None:
    path = records(inp, "m3,d3,0.4\nm4,d3,x\nm5,d3,0.5\nm6,d3,NaN\n,d3,0.1\n")
    result = cli.rejected(str(path))
    lines = result.stderr.splitlines()
    assert lines[0] == "error: 3 problems found in the input; nothing was written:"
    assert lines[1] == f"  {path}:3: column 'accuracy': 'x' is not a number"
    assert lines[2].startswith(f"  {path}:5: column 'accuracy': 'NaN' is not a finite number")
    assert lines[3] == f"  {path}:6: column 'model': empty model name"
    assert len(lines) == 4


def test_cli_json_carries_problems(cli: Cli, inp: Path) -> None:
    path = records(inp, "m3,d3,0.4\nm4,d3,x\nm5,d3,87.5\n")
    result = cli.rejected(str(path), "--json")
    payload = json.loads(result.stdout)  # stdout holds only the JSON
    assert payload["error"] == "2 problems found in the input; nothing was written:"
    assert payload["problems"][0] == {"file": str(path), "row": 3, "column": "accuracy",
                                      "reason": "'x' is not a number"}
    second = payload["problems"][1]
    assert (second["file"], second["row"], second["column"]) == (str(path), 4, "accuracy")
    assert "--accuracy-unit percent" in second["reason"]
    assert len(payload["problems"]) == 2
    assert result.stderr == ""  # the JSON on stdout is the whole message


def test_cli_json_bad_encoding_row(cli: Cli, inp: Path) -> None:
    path = write_csv(inp / "records.csv", HEADER + "m3,d3,0.4\nm4,caf\xe9,0.5\n",
                     encoding="latin-1")
    payload = json.loads(cli.rejected(str(path), "--json").stdout)
    [problem] = payload["problems"]
    assert (problem["file"], problem["row"], problem["column"]) == (str(path), 3, None)
    assert "not valid utf-8 text" in problem["reason"]


def test_cli_percent_unit(cli: Cli, inp: Path) -> None:
    path = records(inp, "m3,d3,87.5\n")
    result = cli.rejected(str(path))
    assert "--accuracy-unit percent" in result.stderr
    ok = cli(str(path), "--accuracy-unit", "percent", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["transfers"]["created"] == 1
    assert cli.dump() != cli.before


def test_cli_bad_accuracy_unit_choice(cli: Cli, inp: Path) -> None:
    path = records(inp, NEW_ROWS)
    result = cli.rejected(str(path), "--accuracy-unit", "percentage")
    assert "'percentage' is not one of 'fraction', 'percent'" in result.stderr


def test_cli_metadata_problems(cli: Cli, inp: Path) -> None:
    rec = records(inp, NEW_ROWS + "m5,d3,0.5\n")
    models = write_csv(inp / "models.csv", "name,family,params\nm3,a,1\nm4,b,abc\nm3,c,1\n")
    result = cli.rejected(str(rec), "--models", str(models))
    assert f"{models}:3: column 'params': 'abc' is not a number (property params)" \
        in result.stderr
    assert f"{models}:4: column 'name': conflicting metadata for model 'm3'" in result.stderr


def test_cli_dry_run_valid_writes_nothing(cli: Cli, inp: Path) -> None:
    rec = records(inp, NEW_ROWS + "m3,d3,0.5\n")
    models = write_csv(inp / "models.csv", "name,family\nm3,a\nm4,b\n")
    result = cli(str(rec), "--models", str(models), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("valid: 3 record rows (2 pairs), metadata for 2 models and 0 "
                             "datasets, 0 scores; nothing written (--dry-run)\n")
    assert cli.dump() == cli.before
    as_json = cli(str(rec), "--models", str(models), "--dry-run", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == {"valid": True, "loader": "records", "models": 2,
                                          "datasets": 0, "record_rows": 3, "pairs": 2,
                                          "scores": 0}
    assert cli.dump() == cli.before


def test_cli_dry_run_invalid(cli: Cli, inp: Path) -> None:
    rec = records(inp, NEW_ROWS + "m5,d3,1.5\n")
    result = cli.rejected(str(rec), "--dry-run")
    assert f"{rec}:4: column 'accuracy': accuracy 1.5 is outside [0, 1]" in result.stderr
    assert "valid:" not in result.stdout


def test_cli_loader_and_spec_together(cli: Cli, inp: Path) -> None:
    records(inp, NEW_ROWS)
    spec = _spec(inp, '[records]\nfile = "records.csv"\n')
    result = cli.rejected(str(inp), "--loader", "records", "--spec", str(spec))
    assert result.stderr == "error: give either --loader NAME or --spec FILE, not both\n"
    as_json = cli.rejected(str(inp), "--loader", "records", "--spec", str(spec), "--json")
    assert json.loads(as_json.stdout) == {
        "error": "give either --loader NAME or --spec FILE, not both", "problems": []}


def test_cli_folder_without_loader(cli: Cli, inp: Path) -> None:
    records(inp, NEW_ROWS, name="results.csv")
    result = cli.rejected(str(inp))
    assert result.stderr.startswith(f"error: {inp} is a folder: name the records CSV inside it")
    assert "--loader NAME" in result.stderr and "--spec FILE" in result.stderr


def test_cli_nothing_to_ingest(cli: Cli) -> None:
    result = cli.rejected()
    assert "nothing to ingest" in result.stderr


def test_cli_spec_typo(cli: Cli, inp: Path) -> None:
    records(inp, NEW_ROWS)
    spec = _spec(inp, '[records]\nfile = "records.csv"\nlayuot = "long"\n')
    result = cli.rejected("--spec", str(spec))
    assert f"loader spec {spec}: records.layuot: unknown key (did you mean 'layout'?)" \
        in result.stderr


def test_cli_unknown_loader(cli: Cli, inp: Path) -> None:
    result = cli.rejected(str(inp), "--loader", "domainet", "--json")
    error = json.loads(result.stdout)["error"]
    assert error.startswith("no built-in loader named 'domainet'; available: ")
    assert "domainnet" in error


def test_cli_spec_is_a_folder(cli: Cli, inp: Path) -> None:
    result = cli.rejected("--spec", str(inp))
    assert str(inp) in result.stderr


def test_cli_bom_only_file(cli: Cli, inp: Path) -> None:
    path = inp / "records.csv"
    path.write_bytes(b"\xef\xbb\xbf")
    result = cli.rejected(str(path))
    assert "empty" in result.stderr
