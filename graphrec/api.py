"""The Python API. The CLI is a thin layer over this; notebooks use it directly.

    import graphrec
    with graphrec.open() as g:                      # the embedded default database
        g.ingest("zoo/records.csv", models="zoo/models.csv")
        g.query("top-models", dataset="ds_000001_sketch", k=3)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import queries
from .config import Target
from .errors import UsageError
from .frames import counts_frame, rows_frame
from .ingest import IngestSummary
from .ingest import ingest as _write
from .loaders import ZooData
from .loaders.read import load, resolve_spec
from .names import clean_name
from .store import Row, Store, connect

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Graphrec", "benchmark", "load", "open", "resolve_spec"]

#: recommend's columns (cypher/queries/recommend.cypher), for an empty result's frame.
RECOMMEND_COLUMNS = ("model", "family", "source", "score", "low", "high", "runs", "std",
                     "min", "max", "predictor")


class Graphrec:
    """A transferability graph in a database: ingest, inspect and query it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- life cycle
    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Graphrec:
        return self

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> None:
        """Close the store. A database error gets the embedded server's own account of a
        crash or a refused write, read before closing (which clears the server's state)."""
        from .errors import StoreError
        from .store import explained

        error = (explained(self.store.target, exc)
                 if isinstance(exc, StoreError) and hasattr(self.store, "target") else exc)
        self.close()
        if error is not exc:
            raise error from exc

    @property
    def location(self) -> str:
        return self.store.location

    # -- writing
    def ingest(self, path: str | Path | ZooData | None = None, *, progress: bool = False,
               **options: Any) -> IngestSummary:
        """Validate the input in full, then write it; see `load` for the options."""
        zoo = path if isinstance(path, ZooData) else load(path, **options)
        return _write(self.store, zoo, progress=progress)

    # -- learning (graphrec.predict.workflow does the work)
    def train(self, model: str | None = None, **options: Any) -> dict[str, Any]:
        """Fit a predictor (default `auto`) on every observed edge and make it current;
        returns its Predictor record."""
        from .predict import workflow

        return workflow.train(self.store, model, **options)

    def predict(self, predictor: str | None = None, top_k: int | None = None, *,
                keep: bool = False, workers: int = 1) -> dict[str, Any]:
        """Write PREDICTED edges for every unobserved pair (the current predictor by
        default) as a new version, which becomes current once complete; `keep` keeps the
        other predictors' predictions; `workers` processes score and write in parallel."""
        from .predict import workflow

        return workflow.predict(self.store, predictor, top_k, keep=keep, workers=workers)

    def predictions(self, predictor: str | None = None, top_k: int | None = None
                    ) -> Iterator[Row]:
        """`predict` without writing: rows {model, dataset, score}, chunk by chunk."""
        from .predict import workflow

        return workflow.stream_predictions(self.store, predictor, top_k)

    def recommend(self, dataset: str, k: int = 5, *, predictor: str | None = None,
                  metadata: Mapping[str, Any] | None = None, save: bool = False,
                  as_frame: bool = False) -> list[Row] | pd.DataFrame:
        """Models ranked for `dataset`; with `metadata`, a new dataset is scored from it
        (cold start, no retraining), and stored only with `save`. `as_frame`: a DataFrame."""
        from .predict import workflow
        from .predict.cold import recommend_new

        if metadata is not None:
            rows = recommend_new(self.store, dataset, dict(metadata), k, predictor, save=save)
        elif save:
            raise UsageError("save applies to a new dataset described by its metadata")
        else:
            rows = workflow.recommend(self.store, dataset, k, predictor)
        return rows_frame(rows, RECOMMEND_COLUMNS) if as_frame else rows

    def predictors(self) -> list[dict[str, Any]]:
        """Every trained predictor, newest first; `current` marks the one in use."""
        from .predict.versions import list_predictors

        return list_predictors(self.store)

    def use_predictor(self, predictor: str) -> dict[str, Any]:
        """Make a predictor the current one (recommend reads its complete predictions)."""
        from .predict.versions import use_predictor

        return use_predictor(self.store, predictor)

    def drop_predictor(self, predictor: str) -> dict[str, Any]:
        """Remove a predictor, its predictions and its checkpoint."""
        from .predict.versions import drop_predictor

        return drop_predictor(self.store, predictor)

    def status(self) -> dict[str, Any]:
        """The current predictor, observed and predicted counts, staleness."""
        from .predict import workflow

        return workflow.status(self.store)

    # -- proxy scores (graphrec.scores does the math)
    def score(self, model: str, dataset: str, *, labels: Any, features: Any = None,
              source_probs: Any = None, metrics: str | Sequence[str] | None = None,
              progress: bool = False) -> dict[str, Any]:
        """Compute LogME / H-Score (from `features`) and LEEP / NCE (from `source_probs`) of
        `model` on `dataset` and store them as SCORED edges; arrays or .npy paths (paths
        are checked against each other, by their headers, before any is read).

        `metrics` (names or "logme,leep") picks among them; by default every metric the
        given inputs allow. The model must be in the graph; a new dataset is added by name.
        Returns {"scores": [{model, dataset, metric, value}], created, updated, ...}.
        """
        import time

        from .scores import compute
        from .scores.workflow import (
            PairFiles,
            ScoreReport,
            check_models,
            parse_metrics,
            score_pairs,
            store_scores,
        )

        if features is None and source_probs is None:
            raise UsageError("give features (LogME, H-Score), source_probs (LEEP, NCE), or "
                             "both")
        model, dataset = clean_name(model, "model"), clean_name(dataset, "dataset")
        chosen = parse_metrics(metrics)
        given = (labels, features, source_probs)
        if all(v is None or isinstance(v, str | Path) for v in given):
            paths = [None if v is None else Path(v) for v in given]
            return score_pairs(self.store, [PairFiles(model, dataset, *paths)], chosen,
                               progress=progress).as_dict()
        if any(isinstance(v, str | Path) for v in given):
            raise UsageError("give labels, features and source_probs all as arrays or all "
                             "as .npy paths")
        started = time.perf_counter()
        check_models(self.store, [model])
        values = compute(features, labels, source_probs=source_probs, metrics=chosen)
        rows = [{"model": model, "dataset": dataset, "metric": k, "value": float(v)}
                for k, v in values.items()]
        written = store_scores(self.store, rows)
        return ScoreReport(rows, written, time.perf_counter() - started).as_dict()

    def score_folder(self, folder: str | Path, metrics: str | Sequence[str] | None = None,
                     progress: bool = False) -> dict[str, Any]:
        """`score` for every pair of a folder of array files: FOLDER/<dataset>/labels.npy
        and FOLDER/<dataset>/<model>.features.npy (and .probs.npy); see
        `graphrec.scores.workflow`. All or nothing: any bad file stops it before a write."""
        from .scores.workflow import find_pairs, parse_metrics, score_pairs

        return score_pairs(self.store, find_pairs(Path(folder)), parse_metrics(metrics),
                           progress).as_dict()

    # -- reading
    def query(self, name: str, params: Mapping[str, Any] | None = None, *,
              as_frame: bool = False, **kw: Any) -> list[Row] | pd.DataFrame:
        """Run a named query from `cypher/` (e.g. "top-models") with checked parameters;
        `as_frame`: the rows as a DataFrame."""
        q = queries.get(name)
        rows = self.store.run(q.text, q.bind({**(params or {}), **kw}))
        return rows_frame(rows) if as_frame else rows

    def stats(self, *, as_frame: bool = False) -> dict[str, dict[str, int]] | pd.DataFrame:
        """Node counts by label and relationship counts by type; `as_frame`: one row per
        label or type (kind, name, count)."""
        counts = self.store.counts()
        return counts_frame(counts) if as_frame else counts

    def matrix(self, predictor: str | None = None) -> pd.DataFrame:
        """The completed matrix as a DataFrame, one row per pair: observed accuracies (with
        runs and std) and the predictor's scores (with low/high) where nothing is measured.
        The current predictor by default; observed pairs only while none is trained."""
        from .export import completed_matrix

        return completed_matrix(self.store, predictor)

    def export(self, path: str | Path, *, format: str | None = None,
               predictor: str | None = None, wide: bool = False, overwrite: bool = False
               ) -> dict[str, Any]:
        """Write `matrix()` to a CSV or Parquet file (`format`, else the suffix); `wide`: a
        models x datasets grid of scores. An existing file is replaced only with
        `overwrite`. Returns what was written (rows, observed, predicted, predictor)."""
        from .export import check_target, completed_matrix, format_of, write_matrix

        path = Path(path)
        check_target(path, overwrite)
        fmt = format_of(path, format)
        return write_matrix(completed_matrix(self.store, predictor), path, fmt,
                            wide_form=wide)

    def dump(self) -> dict[str, list]:
        """Every node and relationship, sorted: a full, comparable picture of the graph."""
        import json

        def key(row: Row) -> str:
            return json.dumps(row, sort_keys=True, default=str)

        nodes = sorted(self.query("admin/dump-nodes"), key=key)
        rels = sorted(self.query("admin/dump-relationships"), key=key)
        return {"nodes": nodes, "relationships": rels}


def benchmark(data: str | Path | None = None, *, loader: str | None = None,
              spec: str | Path | None = None, db: str | Target | None = None,
              model_features: str | Path | None = None,
              dataset_features: str | Path | None = None, max_datasets: int | None = None,
              scores: str | Path | None = None, metric: str | None = None,
              score_rows: str = "models", as_frame: bool = False, **options: Any):
    """Run the paper's protocol on a matrix; returns a `BenchmarkResult` (`as_frame`: its
    `to_frame()`, one row per method and metric).

    The matrix comes from input files (`data`: a folder, whose loader is detected unless
    `loader`/`spec` names it, or a records CSV) or, without `data`, from the database `db`.
    Feature files (one row per model / dataset, in the records' order) feed the `-given`
    methods; in a data folder, the authors' `*_source_embedding.npy` and
    `*_target_embedding.npy` are found on their own. `max_datasets` benchmarks a seeded
    random sample of that many datasets (for zoos too large to score densely). `scores` /
    `metric` / `score_rows` add a wide score matrix to the input files (see `load`); the
    `+scores` methods read it, or the SCORED edges of the database. `options` go to
    `run_benchmark` (methods, protocol, seeds, masks, epochs, avg_epochs, cold, hidden,
    first_seed, intervals, device, progress; left out, the protocol's defaults).
    """
    from .benchmark import run_benchmark
    from .benchmark.inputs import feature_files, load_features, load_matrix
    from .benchmark.runner import protocol_options
    from .predict.workflow import read_graph

    try:  # a setting the protocol does not take fails before any data is read
        protocol_options(options.get("protocol", "paper"),
                         **{k: options.get(k) for k in ("seeds", "epochs", "cold", "hidden",
                                                        "first_seed", "intervals")})
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if data is not None:
        graph, source = load_matrix(Path(data), loader, Path(spec) if spec else None,
                                    scores=scores, metric=metric, score_rows=score_rows)
        if model_features is None and dataset_features is None:
            found = feature_files(Path(data))
            if found:
                model_features, dataset_features = found
    else:
        if loader or spec or scores:
            raise UsageError("--loader/--spec/--scores read input files: give them with "
                             "--data DIR")
        with open(db) as g:
            graph = read_graph(g.store)
            source = f"database {g.location}"
        # The authors' draw refers to rows and columns in their files' order, which a
        # database does not keep: like-for-like needs --data; here the seeded draw is the
        # honest default.
        if options.get("masks", "auto") == "auto":
            options["masks"] = "seeded"
    if (model_features is None) != (dataset_features is None):
        raise UsageError("give both --model-features and --dataset-features, or neither")
    arrays = {}
    if model_features is not None:
        arrays = {"model_features": load_features(Path(model_features), "model",
                                                  graph.num_models),
                  "dataset_features": load_features(Path(dataset_features), "dataset",
                                                    graph.num_datasets)}
        source += f"; features {model_features}, {dataset_features}"
    if max_datasets is not None and max_datasets < graph.num_datasets:
        if arrays:
            raise UsageError("--max-datasets samples datasets, so feature files (one row per "
                             "dataset) no longer line up; drop one of the two")
        from .benchmark.runner import sample_datasets

        graph = sample_datasets(graph, max_datasets)
        source += f"; a sample of {max_datasets} datasets"
    try:
        result = run_benchmark(graph, source=source, **arrays, **options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return result.to_frame() if as_frame else result


def open(db: str | Target | None = None) -> Graphrec:
    """Open the database `db` (a folder, a redis:// or bolt:// address, or None for the
    embedded default under GRAPHREC_HOME)."""
    return Graphrec(connect(db))
