"""Train, predict and recommend against a graph database.

The database stays the source of truth: the trainer reads the graph through Cypher files in
pages, a trained predictor is recorded as a `(:Predictor)` node with its checkpoint on disk
beside the database, and predictions go back as `PREDICTED` relationships that never replace
an observed `TRANSFERS_TO` edge.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import queries
from ..bulk import paused_gc
from ..checks import check_between, is_integer
from ..errors import UsageError
from ..ingest import utc_now
from ..names import clean_name, close_names
from ..store import Row, Store
from .graph import TransferGraph
from .intervals import DEFAULT_COVERAGE, Calibration, calibrate, interval_bounds
from .io import scores_by_metric
from .predicted_edges import none_if_nan, score_chunk, write_predictions
from .versions import (
    CHECKPOINTS,
    decoded,
    finish_version,
    get_predictor,
    new_version,
    shown_predictor,
    stamp_id,
)

MODELS_PER_READ = 100  # models whose observed edges are read in one statement
PAIRS_PER_CHUNK = 2_000_000  # pairs scored at once by `predict`


def read_nodes(store: Store, kind: str) -> list[Row]:
    """Every model or dataset ({name, props}), in name order, read in one statement (one
    snapshot: an ingest running meanwhile cannot shift a page)."""
    rows = store.run(queries.get(f"predict/read-{kind}").text)
    rows.sort(key=lambda r: r["name"])
    return rows


def dataset_exists(store: Store, name: str) -> bool:
    return bool(store.run(queries.get("predict/dataset-exists").text,
                          {"name": name})[0]["found"])


def read_graph(store: Store) -> TransferGraph:
    """Pull models, datasets, observed accuracies and proxy scores (SCORED edges) out of the
    database: the nodes in one statement each, the edges a block of models at a time.
    Edges to a model or dataset written after the nodes were read are left out."""
    with paused_gc():
        return _read_graph(store)


def _read_graph(store: Store) -> TransferGraph:
    models, datasets = read_nodes(store, "models"), read_nodes(store, "datasets")
    model_names = [r["name"] for r in models]
    dataset_names = [r["name"] for r in datasets]
    mi = {n: i for i, n in enumerate(model_names)}
    di = {n: j for j, n in enumerate(dataset_names)}
    observed = queries.get("predict/read-observed").text
    scored = queries.get("predict/read-scores").text
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    accuracy: list[np.ndarray] = []
    score_rows: list[tuple[tuple[str, str, str], float]] = []
    any_scores = store.run(queries.get("predict/count-scores").text)[0]["scores"] > 0
    for start in range(0, len(model_names), MODELS_PER_READ):
        chunk = model_names[start:start + MODELS_PER_READ]
        for r in store.run(observed, {"models": chunk}):
            cols = np.array([di.get(d, -1) for d in r["datasets"]], dtype=np.int64)
            keep = cols >= 0
            dst.append(cols[keep])
            src.append(np.full(int(keep.sum()), mi[r["model"]], dtype=np.int64))
            accuracy.append(np.asarray(r["accuracy"], dtype=np.float64)[keep])
        if any_scores:
            score_rows.extend(((r["model"], d, r["metric"]), v)
                              for r in store.run(scored, {"models": chunk})
                              for d, v in zip(r["datasets"], r["values"], strict=True))
    i = np.concatenate(src) if src else np.zeros(0, dtype=np.int64)
    j = np.concatenate(dst) if dst else np.zeros(0, dtype=np.int64)
    order = np.lexsort((j, i))
    return TransferGraph(model_names, dataset_names, [r["props"] for r in models],
                         [r["props"] for r in datasets], np.stack([i, j], axis=1)[order],
                         (np.concatenate(accuracy) if accuracy else np.zeros(0))[order],
                         scores_by_metric(score_rows, mi, di))


def _make(name: str, options: dict[str, Any]):
    from .registry import PREDICTORS

    if name not in PREDICTORS:
        raise UsageError(f"unknown predictor {name!r}; choose one of {', '.join(PREDICTORS)}")
    cls = PREDICTORS[name]
    accepted = cls.param_names()
    progress = options.get("progress")  # how to show the work, not how to do it
    given = {k: v for k, v in options.items() if v is not None and k != "progress"}
    if given.get("text") and "text" not in accepted:
        raise UsageError(f"--text-features needs a predictor that reads node features "
                         f"(hla, scg4trf, g4trf or linear), not {name!r}")
    unknown = sorted(k for k in given if k not in accepted)
    if unknown:  # an option silently dropped would be a run the user did not ask for
        takes = sorted(k for k in accepted if k != "progress")
        raise UsageError(f"predictor {name!r} does not take "
                         f"{', '.join(_OPTION_NAMES.get(k, k) for k in unknown)}; "
                         + (f"it takes {', '.join(_OPTION_NAMES.get(k, k) for k in takes)} "
                            "(the names without -- are options of the Python API's train)"
                            if takes else "it takes no options"))
    if progress is not None and "progress" in accepted:
        given["progress"] = progress
    return cls(**given)


#: How `graphrec train` spells the predictor options it sets.
_OPTION_NAMES = {"epochs": "--epochs", "seed": "--seed", "device": "--device",
                 "use_scores": "--no-scores", "text": "--text-features"}


def train(store: Store, model: str | None = None, *,
          coverage: float | None = DEFAULT_COVERAGE, **options: Any) -> dict[str, Any]:
    """Fit a predictor (default: `DEFAULT_PREDICTOR`) on every observed edge; calibrate its
    `coverage` intervals on held-out splits of the graph (None: no intervals); save its
    checkpoint; record a Predictor node."""
    if coverage is not None:
        try:
            check_between("coverage", coverage, 0, 1, noun="fraction")
        except ValueError as exc:
            raise UsageError(f"{exc} (0.8 for 80% intervals)") from None
    from .registry import DEFAULT_PREDICTOR

    model = model or DEFAULT_PREDICTOR
    read_at = utc_now()  # what changes after this moment, training did not see
    graph = read_graph(store)
    if len(graph.edges) == 0:
        raise UsageError("the graph has no observed edges to learn from; ingest some first "
                         "(graphrec ingest ...)")
    predictor = _make(model, options)
    started = time.perf_counter()
    try:
        predictor.fit(graph)
    except ImportError as exc:  # an optional feature's package is missing
        raise UsageError(str(exc)) from None
    except ValueError as exc:  # what this graph cannot give the predictor (e.g. no scores)
        raise UsageError(f"cannot train {model!r} on this graph: {exc}") from None
    seconds = time.perf_counter() - started
    calibration = None
    if coverage is not None:
        started = time.perf_counter()
        calibration = calibrate(predictor, graph, coverage=coverage)
        calibrate_seconds = time.perf_counter() - started
    created = utc_now()
    pid = f"{model}-{stamp_id(created)}"
    checkpoint = save_checkpoint(store, predictor, pid)
    loss = getattr(predictor, "train_loss", None)
    props = {
        "id": pid, "model": model, "created_at": created, "read_at": read_at,
        "hyperparameters": json.dumps(predictor.get_config(), sort_keys=True, default=str),
        "trained_on_edges": len(graph.edges), "models": graph.num_models,
        "datasets": graph.num_datasets,
        # Relative to the store's data_dir: a copied database folder reads its own files.
        "checkpoint": checkpoint.relative_to(store.data_dir).as_posix(),
        "fit_seconds": round(seconds, 3),
        "score_metrics": json.dumps(predictor.scores_used),
    }
    if loss is not None:
        props["train_loss"] = float(loss)
    if calibration is not None:
        props.update(calibration.as_record(), calibrate_seconds=round(calibrate_seconds, 3))
    selection = getattr(predictor, "selection_", None)
    if selection:  # what `auto` chose, and its held-out figures: a JSON text on the node
        props["selection"] = json.dumps(selection, sort_keys=True)
    store.run(queries.get("predict/create-predictor").text, {"props": props}, write=True)
    store.run(queries.get("predict/set-current").text, {"id": pid}, write=True)
    return decoded({**props, "checkpoint": str(checkpoint), "current": True})


def save_checkpoint(store: Store, predictor, pid: str) -> Path:
    """Write `predictor` to the store's checkpoint folder, private to its owner like the
    database itself (folder 0700, file 0600, whatever the umask), and in one piece: it is
    written beside its name and renamed into place, so a crash never leaves half a file."""
    import os

    folder = store.data_dir / CHECKPOINTS
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # also a folder an older graphrec made 0755 ...
    for older in folder.glob("*.pt"):  # ... with 0644 files
        os.chmod(older, 0o600)
    checkpoint = folder / f"{pid}.pt"
    partial = folder / f".{pid}.pt.partial"
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        predictor.save(partial)  # rewrites the file in place, mode kept
        os.chmod(partial, 0o600)  # whatever the umask or the writer did
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, checkpoint)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return checkpoint


def describe_selection(record: dict[str, Any]) -> list[str]:
    """For people: what an `auto` predictor chose per regime, and how well that ranked on
    held-out datasets of this graph (empty for other predictors)."""
    selection = record.get("selection")  # decoded, as every record reader hands it
    if not selection:
        return []
    lines = []
    for regime, what in (("cold", "datasets with no history"),
                         ("partial", "datasets with some history")):
        part = selection.get(regime) or {}
        weights = part.get("weights") or {}
        blend = " + ".join(f"{w:g} x {n}" if w != 1 else n for n, w in weights.items())
        figures = ""
        if part.get("datasets"):
            figures = (f": held-out weighted tau {part['wtau']:.3f}, top-1 regret "
                       f"{part['regret']:.2f} points over {part['datasets']} held-out "
                       "dataset cases")
        lines.append(f"{what}: {blend or 'n/a'}{figures}")
    if selection.get("skipped"):
        lines.append(f"skipped as too slow for this graph: {', '.join(selection['skipped'])}")
    return lines


def describe_intervals(record: dict[str, Any]) -> list[str]:
    """For people: the calibrated interval offsets, cold and partial (empty without)."""
    c = calibration_of(record)
    if c is None:
        return []
    text = (f"{c.coverage:.0%} intervals, from held-out errors of this graph: score "
            f"{c.cold_low:+.3f} .. {c.cold_high:+.3f} for datasets with no history "
            f"({c.cold_errors} errors), {c.partial_low:+.3f} .. {c.partial_high:+.3f} with "
            f"some ({c.partial_errors})")
    if c.scaled:
        low, high = c.offsets(1)
        text += (f"; wider where a dataset has few results: {float(high - low):.3f} with "
                 "one")
    return [text]


def load_predictor(record: dict[str, Any]):
    """The fitted predictor of `record` (as `get_predictor` gives it: the checkpoint path
    resolved). A missing or unusable checkpoint (truncated, foreign, tampered with) is a
    UsageError naming the file and what to do: the fix is the user's (retrain, or pick or
    drop a predictor), and nothing was written."""
    import torch

    from .registry import load_checkpoint

    pid = record["id"]
    fix = (f"train a new predictor (graphrec train), or make another one current (graphrec "
           f"predictors use ID); graphrec predictors drop {pid} removes this one")
    path = Path(str(record.get("checkpoint") or ""))
    if not record.get("checkpoint") or not path.is_file():
        raise UsageError(f"the checkpoint of predictor {pid!r} is missing ({path}): {fix}")
    try:
        # A predictor trained on a GPU still predicts on a machine without one.
        return load_checkpoint(path, device=None if torch.cuda.is_available() else "cpu")
    except ValueError as exc:
        raise UsageError(f"cannot use predictor {pid!r}: {exc}. To go on, {fix}") from exc


def chunks(graph: TransferGraph, targets: np.ndarray) -> list[np.ndarray]:
    """`targets` in blocks of about PAIRS_PER_CHUNK pairs: memory bounded for any zoo."""
    per_chunk = max(1, PAIRS_PER_CHUNK // max(1, graph.num_models))
    return [targets[start:start + per_chunk] for start in range(0, len(targets), per_chunk)]


def _scored(graph: TransferGraph, predictor, targets: np.ndarray, top_k: int | None,
            progress: bool) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(pairs, scores) of the unobserved pairs of `targets`, a chunk at a time."""
    from tqdm import tqdm

    score = predictor.scorer(graph)  # node embeddings once, then pairs chunk by chunk
    bar = tqdm(total=len(targets), unit="dataset", desc="predict", disable=not progress,
               leave=False)
    try:
        for chunk in chunks(graph, targets):
            pairs, scores = score_chunk(graph, score, chunk, top_k)
            if len(pairs):
                yield pairs, scores
            bar.update(len(chunk))
    finally:
        bar.close()


def _targets(graph: TransferGraph, datasets: list[str] | None) -> np.ndarray:
    if datasets is None:
        return np.arange(graph.num_datasets, dtype=np.int64)
    return np.array([graph.dataset_index(d) for d in datasets], dtype=np.int64)


def calibration_of(record: dict[str, Any]) -> Calibration | None:
    """The intervals' calibration a Predictor record holds (None: trained without)."""
    return Calibration.from_record(record)


def _check_top_k(top_k: int | None) -> None:
    if top_k is not None:
        queries.check_count(top_k, "top_k")


def predict(store: Store, predictor_id: str | None = None, top_k: int | None = None,
            progress: bool = False, keep: bool = False, workers: int = 1) -> dict[str, Any]:
    """Score every pair without an observed edge and write the scores as a new version.

    The new version is read only once it is complete: then it becomes current and replaces
    the predictor's earlier versions and (unless `keep`) every other predictor's
    predictions. `workers` > 1 shards the datasets across that many processes, which
    score and write in parallel.
    """
    _check_top_k(top_k)
    if not is_integer(workers) or workers < 1:
        raise UsageError(f"--workers must be a whole number, 1 or more, got {workers!r}")
    record = get_predictor(store, predictor_id)
    predictor = load_predictor(record)
    graph = read_graph(store)
    started = time.perf_counter()
    targets = np.arange(graph.num_datasets, dtype=np.int64)
    pid, version = record["id"], new_version()
    bounds = interval_bounds(calibration_of(record), graph)
    written = 0
    if workers > 1 and len(targets) > 1:
        from .shards import predict_sharded

        written = predict_sharded(store, graph, predictor.scorer(graph), chunks(graph, targets),
                                  top_k, pid, version, workers, progress, bounds)
    else:
        for pairs, scores in _scored(graph, predictor, targets, top_k, progress):
            write_predictions(store, graph, pairs, scores, pid, version, bounds)
            written += len(pairs)
    removed = finish_version(store, record, version, written, top_k, keep)
    return {"predictor": pid, "version": version, "predicted": written, "removed": removed,
            "observed": len(graph.edges), "seconds": round(time.perf_counter() - started, 3)}


def stream_predictions(store: Store, predictor_id: str | None = None,
                       top_k: int | None = None, datasets: list[str] | None = None,
                       progress: bool = False) -> Iterator[Row]:
    """`predict` without writing: rows {model, dataset, score} of every unobserved pair (or
    the top `top_k` per dataset), yielded chunk by chunk (Neo4j GDS's stream mode)."""
    _check_top_k(top_k)
    record = get_predictor(store, predictor_id)
    predictor = load_predictor(record)
    graph = read_graph(store)
    targets = _targets(graph, datasets)
    bounds = interval_bounds(calibration_of(record), graph)

    def rows() -> Iterator[Row]:
        for pairs, scores in _scored(graph, predictor, targets, top_k, progress):
            low, high = bounds(pairs, scores) if bounds else (np.full(len(pairs), np.nan),) * 2
            order = np.lexsort((-scores, pairs[:, 1]))
            for k in order:
                yield {"model": graph.models[pairs[k, 0]],
                       "dataset": graph.datasets[pairs[k, 1]], "score": float(scores[k]),
                       "low": none_if_nan(low[k]), "high": none_if_nan(high[k])}

    return rows()


def recommend(store: Store, dataset: str, k: int | None = 5,
              predictor_id: str | None = None) -> list[Row]:
    """Models ranked for `dataset`: observed accuracies and the current predictor's scores
    (the best `k`; None: every model)."""
    dataset = clean_name(dataset, "dataset")
    if not dataset_exists(store, dataset):
        names = [r["name"] for r in store.run(queries.get("predict/dataset-names").text)]
        close = close_names(dataset, names, n=5)
        hint = f" Close names: {', '.join(close)}." if close else ""
        raise UsageError(f"no dataset named {dataset!r} in the graph.{hint} To recommend for "
                         "a new dataset, describe it: graphrec recommend NAME --domain ... "
                         "--num-classes ... (see --help)")
    record = shown_predictor(store, predictor_id)
    q = queries.get("recommend")
    if k is None:
        k = max(1, store.counts()["nodes"].get("Model", 0))
    return store.run(q.text, q.bind({"dataset": dataset, "k": k, **served(record)}))


def served(record: dict[str, Any] | None) -> dict[str, Any]:
    """The recommend query's `predictor` and `version`: the predictor's complete version;
    none (so no predicted rows) while it has none; any version for a predictor recorded
    before versions existed (its edges have none)."""
    if record is None:
        return {"predictor": None, "version": None}
    if record.get("version"):
        return {"predictor": record["id"], "version": record["version"]}
    legacy = "read_at" not in record
    return {"predictor": record["id"], "version": None if legacy else ""}


def add_dataset(store: Store, name: str, props: dict[str, Any]) -> None:
    """Put a new dataset (metadata only, no observed edges) into the graph: cold start."""
    from ..ingest import ingest
    from ..loaders.zoodata import Entity, ZooData

    clean = {k: v for k, v in props.items() if v not in (None, "", [])}
    ingest(store, ZooData(datasets={name: Entity(clean, ("command line", 0))}))


def status(store: Store) -> dict[str, Any]:
    """The current predictor, observed and predicted counts, and whether predictions are
    stale: observed edges, or the scores it reads, written after training read the graph
    (`last_observed_change` / `last_score_change`: the latest such write, else None)."""
    record = shown_predictor(store)
    observed = store.run(queries.get("predict/count-observed").text)[0]["observed"]
    predicted = 0
    if record is not None and record.get("version"):
        predicted = int(record.get("predicted") or 0)  # recorded with the version
    elif record is not None and "read_at" not in record:  # from before versions: count
        predicted = store.run(queries.get("predict/count-predictions").text,
                              served(record))[0]["predicted"]
    since = (record.get("read_at") or record["created_at"]) if record else None
    row = {"last_observed_change": None, "last_score_change": None}
    if since is not None:
        row = store.run(queries.get("predict/status").text, {"since": since})[0]
    stale = bool(row["last_observed_change"])
    # A predictor that reads scores learnt their weights from the scores it saw.
    reads_scores = bool(record and record.get("score_metrics"))
    stale = stale or bool(reads_scores and row["last_score_change"])
    return {"predictor": record, "observed": observed, "predicted": predicted,
            "version": record.get("version") if record else None,
            "predicted_at": record.get("predicted_at") if record else None,
            "last_observed_change": row["last_observed_change"],
            "last_score_change": row["last_score_change"], "read_at": since, "stale": stale}
