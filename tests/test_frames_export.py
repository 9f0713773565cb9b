"""DataFrames on request (`as_frame=True`) and `export` of the completed matrix, on a real
embedded database: the frames hold the same rows as the lists, and the file holds every
pair once, observed where measured, predicted with its interval elsewhere."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import graphrec
from graphrec.errors import UsageError

from .conftest import module_env, synth_db

MODELS, DATASETS = 5, 24


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("frames")
    with module_env(folder):
        db, _ = synth_db(folder, MODELS, DATASETS, 0.5, 3)
        with graphrec.open(db) as g:
            observed = g.matrix()  # before any predictor
            g.train("hla")
            g.predict()
        yield db, observed


@pytest.fixture
def g(zoo):
    with graphrec.open(zoo[0]) as opened:
        yield opened


def _measured(g: graphrec.Graphrec) -> dict[tuple[str, str], float]:
    rows = g.store.run("MATCH (m:Model)-[t:TRANSFERS_TO]->(d:Dataset) "
                       "RETURN m.name AS m, d.name AS d, t.accuracy AS a")
    return {(r["m"], r["d"]): r["a"] for r in rows}


def test_frames_hold_the_same_rows_as_the_lists(g) -> None:
    dataset = g.store.run("MATCH (d:Dataset) RETURN d.name AS n ORDER BY n LIMIT 1")[0]["n"]
    rows = g.recommend(dataset, k=MODELS)
    frame = g.recommend(dataset, k=MODELS, as_frame=True)
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(rows) == MODELS
    nulls_as_none = frame.astype(object).where(frame.notna(), None)  # NaN where null
    assert nulls_as_none.to_dict("records") == rows
    assert list(frame["model"]) == [r["model"] for r in rows]

    top = g.query("top-models", dataset=dataset, k=3)
    top_frame = g.query("top-models", dataset=dataset, k=3, as_frame=True)
    assert top_frame.to_dict("records") == top

    counts = g.stats()
    table = g.stats(as_frame=True)
    assert list(table.columns) == ["kind", "name", "count"]
    assert dict(zip(table.loc[table.kind == "node", "name"],
                    table.loc[table.kind == "node", "count"], strict=True)) == counts["nodes"]
    assert table.loc[(table.kind == "relationship") & (table.name == "TRANSFERS_TO"),
                     "count"].item() == counts["relationships"]["TRANSFERS_TO"]


def test_an_empty_result_is_an_empty_frame(g) -> None:
    frame = g.query("top-models", dataset="no such dataset", k=3, as_frame=True)
    assert isinstance(frame, pd.DataFrame) and frame.empty


def test_the_matrix_holds_every_pair_once(g, zoo) -> None:
    matrix = g.matrix()
    measured = _measured(g)
    assert len(matrix) == MODELS * DATASETS
    assert not matrix.duplicated(["model", "dataset"]).any()
    observed = matrix[matrix.source == "observed"]
    assert {(r.model, r.dataset): r.score for r in observed.itertuples()} == measured
    assert observed[["low", "high", "predictor"]].isna().all().all()
    assert (observed.runs >= 1).all()
    predicted = matrix[matrix.source == "predicted"]
    assert len(predicted) == MODELS * DATASETS - len(measured)
    assert (predicted.low <= predicted.score).all() and (predicted.score <= predicted.high).all()
    assert predicted.predictor.nunique() == 1
    assert predicted.predictor.iloc[0] == g.status()["predictor"]["id"]
    # Before a predictor was trained: the measured pairs only.
    before = zoo[1]
    assert set(before.source) == {"observed"} and len(before) == len(measured)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_round_trips(g, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"matrix{suffix}"
    summary = g.export(path)
    read = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    matrix = g.matrix()
    assert summary["rows"] == len(read) == len(matrix)
    assert summary["observed"] + summary["predicted"] == len(matrix)
    assert summary["format"] == suffix[1:]
    assert list(read.columns) == list(matrix.columns)
    pd.testing.assert_frame_equal(read[["model", "dataset", "source"]],
                                  matrix[["model", "dataset", "source"]])
    assert read.score.to_numpy() == pytest.approx(matrix.score.to_numpy())


def test_export_wide_is_the_grid(g, tmp_path: Path) -> None:
    path = tmp_path / "grid.csv"
    g.export(path, wide=True)
    grid = pd.read_csv(path, index_col=0)
    assert grid.shape == (MODELS, DATASETS) and not grid.isna().any().any()
    measured = _measured(g)
    (model, dataset), accuracy = next(iter(measured.items()))
    assert grid.loc[model, dataset] == pytest.approx(accuracy)


def test_export_refuses_bad_targets_and_keeps_what_is_there(g, tmp_path: Path) -> None:
    kept = tmp_path / "kept.csv"
    kept.write_text("mine\n")
    cases = [
        (dict(path=tmp_path / "matrix.xlsx"), "suffix"),
        (dict(path=tmp_path / "matrix.csv", format="xlsx"), "unknown export format"),
        (dict(path=kept), "--force"),
        (dict(path=tmp_path / "missing" / "m.csv"), "does not exist"),
        (dict(path=tmp_path), "is a folder"),
        (dict(path=tmp_path / "m.csv", predictor="nope"), "no predictor"),
    ]
    for kwargs, words in cases:
        with pytest.raises(UsageError, match=words):
            g.export(**kwargs)
    assert kept.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv"]  # no temporary left
    g.export(kept, overwrite=True)
    assert kept.read_text().startswith("model,dataset,source,score")


def test_benchmark_results_as_a_frame(tmp_path: Path) -> None:
    from graphrec.api import benchmark
    from graphrec.synth import generate_zoo

    zoo = generate_zoo(6, 30, 0.7, 2, tmp_path / "zoo")
    options = dict(methods=["mean", "random"], protocol="holdout", seeds=2)
    result = benchmark(zoo.files["records"].parent, **options)
    frame = benchmark(zoo.files["records"].parent, as_frame=True, **options)
    assert list(frame.columns) == ["method", "label", "metric", "mean", "std", "seconds",
                                   "peak_rss_mib"]
    assert set(frame.method) == {"mean", "random"}
    for m in result.methods:  # the same figures as the result's own summary
        summary = m.summary()
        mine = frame[frame.method == m.key].set_index("metric")
        assert set(mine.index) == set(summary)
        for metric, (mean, _) in summary.items():
            assert mine.loc[metric, "mean"] == pytest.approx(mean, nan_ok=True)
    reps = result.to_frame(repetitions=True)
    assert set(reps.repetition) == {0, 1}
    assert len(reps) == sum(len(m.repetitions) * len(m.repetitions[0]) for m in result.methods)


def test_cli_export(zoo, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from graphrec.cli import main

    db = zoo[0]
    out = tmp_path / "m.parquet"
    ran = CliRunner().invoke(main, ["--db", db, "export", str(out), "--json"])
    assert ran.exit_code == 0, ran.output
    info = json.loads(ran.stdout)
    assert info["rows"] == MODELS * DATASETS == len(pd.read_parquet(out))
    assert info["format"] == "parquet" and info["predictor"]
    text = CliRunner().invoke(main, ["--db", db, "export", str(tmp_path / "grid"), "--format",
                                     "csv", "--wide"])
    assert text.exit_code == 0 and "rows (wide)" in text.output
    assert pd.read_csv(tmp_path / "grid", index_col=0).shape == (MODELS, DATASETS)
    for args, words in [([str(out)], "--force"),
                        ([str(tmp_path / "m.txt")], "suffix"),
                        ([str(tmp_path / "x.csv"), "--predictor", "nope"], "no predictor"),
                        ([str(tmp_path / "x.csv"), "--format", "xlsx"], "xlsx")]:
        refused = CliRunner().invoke(main, ["--db", db, "export", *args, "--json"])
        assert refused.exit_code == 2, refused.output
        assert words in json.loads(refused.stdout)["error"] and refused.stderr == ""
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "m.txt").exists()
