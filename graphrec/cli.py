"""The `graphrec` command: a thin layer over the Python API (`graphrec.api`).

Tables for people, `--json` for scripts, progress bars on stderr for long work. Errors print
what went wrong, where, and how to fix it; exit code 2 means "fix the input", 1 "something
else failed".
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from . import __version__, queries
from .api import Graphrec, resolve_spec
from .api import open as open_graph
from .errors import GraphrecError, UsageError, ValidationError
from .loaders import build, builtin_specs
from .queries import MAX_ROWS


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def handle_errors(fn: Callable) -> Callable:
    """Turn graphrec errors into a message and an exit code (JSON too, under --json)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraphrecError as exc:
            if kwargs.get("as_json"):
                # One shape for every error: a message, and the located problems (if any).
                problems = exc.problems if isinstance(exc, ValidationError) else []
                _emit_json({"error": str(exc).split("\n", 1)[0] if problems else str(exc),
                            "problems": [p.as_dict() for p in problems]})
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; batches already written are committed, run the command "
                       "again to finish", err=True)
            sys.exit(130)

    return wrapper


class Context:
    """Lazily opened database shared by one command."""

    def __init__(self, db: str | None) -> None:
        self.db = db

    def open(self) -> Graphrec:
        return open_graph(self.db)


pass_ctx = click.make_pass_decorator(Context)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain aligned table; floats with 4 decimals, lists joined."""
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0].keys())

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        if isinstance(v, list):
            text = ", ".join(map(str, v))
            return text if len(text) <= 60 else text[:57] + "..."
        if isinstance(v, dict):
            return json.dumps(v, ensure_ascii=False, default=str)
        return "" if v is None else str(v)

    body = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(cols)]
    numeric = [all(isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool)
                   for r in rows if r.get(c) is not None) for c in cols]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(b) for b in body]
    return "\n".join(out)


class JsonErrorsGroup(click.Group):
    """With --json anywhere in the arguments, Click's own errors (a bad option value, an
    unknown option, a missing argument) come as the JSON error object too, not usage text:
    a script that asked for JSON gets JSON whatever went wrong. Exit code 2 as before."""

    def main(self, args: Sequence[str] | None = None, *pos: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if "--json" not in argv or kwargs.get("standalone_mode") is False:
            return super().main(argv, *pos, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(argv, *pos, **kwargs)
        except click.ClickException as exc:
            message = exc.format_message()
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" (see {exc.ctx.command_path} --help)"
            _emit_json({"error": message, "problems": []})
            click.echo(f"error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)  # --help, --version: Click's exit code


@click.group(cls=JsonErrorsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="GRAPHREC_DB", metavar="URI",
              help="Database: a folder (embedded FalkorDB, the default under GRAPHREC_HOME), "
                   "redis://HOST:PORT[/GRAPH] (a FalkorDB server) or bolt://HOST:7687 / "
                   "neo4j://HOST:7687 (Neo4j 5; credentials from NEO4J_USER/NEO4J_PASSWORD). "
                   "Also read from GRAPHREC_DB.")
@click.version_option(__version__, prog_name="graphrec")
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """graphrec: choose the pre-trained model to fine-tune for a new dataset.

    A model zoo's fine-tuning history lives in a graph database; graphrec ingests it,
    learns from it, and recommends models.
    """
    ctx.obj = Context(db)


# -- ingest ---------------------------------------------------------------------------------

def _loader_help() -> str:
    try:
        names = ", ".join([*builtin_specs(), "zoo"])
    except FileNotFoundError:  # pragma: no cover - broken installation
        names = "?"
    return (f"A built-in loader for PATH (a folder): {names}. A folder holding records.csv "
            "is read as a zoo (models.csv, datasets.csv, scores_<metric>.csv beside it) "
            "without one.")


def score_matrix_options(fn: Callable) -> Callable:
    """--scores FILE --metric NAME [--score-rows]: a wide matrix of proxy scores."""
    fn = click.option("--score-rows", type=click.Choice(["models", "datasets"]),
                      default="models", show_default=True,
                      help="What each row of the --scores matrix is.")(fn)
    fn = click.option("--metric", metavar="NAME",
                      help="The metric the --scores matrix holds (logme, leep, nce, hscore, "
                           "or your own name).")(fn)
    return click.option("--scores", "score_file", type=click.Path(path_type=Path),
                        metavar="CSV",
                        help="A wide matrix of proxy scores (first column: model names, "
                             "header: dataset names; empty cells: no score), stored as "
                             "SCORED edges. Needs --metric.")(fn)


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--loader", metavar="NAME", help=_loader_help())
@click.option("--spec", type=click.Path(path_type=Path), metavar="FILE",
              help="Your own loader spec (TOML); PATH, if given, is the folder its files are in.")
@click.option("--models", type=click.Path(path_type=Path), metavar="CSV",
              help="Model metadata, keyed by `name` (or as the spec says).")
@click.option("--datasets", type=click.Path(path_type=Path), metavar="CSV",
              help="Dataset metadata, keyed by `name` (or as the spec says).")
@click.option("--accuracy-unit", type=click.Choice(["fraction", "percent"]),
              help="How the records give accuracy (default: as the loader says, usually "
                   "fraction). Stored as a fraction in [0, 1].")
@score_matrix_options
@click.option("--dry-run", is_flag=True, help="Validate the input and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_ctx
@handle_errors
def ingest(obj: Context, path: Path | None, loader: str | None, spec: Path | None,
           models: Path | None, datasets: Path | None, accuracy_unit: str | None,
           score_file: Path | None, metric: str | None, score_rows: str,
           dry_run: bool, as_json: bool) -> None:
    """Put models, datasets and observed transferability into the graph.

    \b
      graphrec ingest records.csv --models models.csv --datasets datasets.csv
      graphrec ingest --loader domainnet path/to/domainnet
      graphrec ingest --spec my_zoo.toml [FOLDER]
      graphrec ingest --scores LogME.csv --metric logme      # proxy scores alone

    Every file is validated in full first: if anything is wrong, every problem is listed
    (file, row, column, reason), the exit code is 2 and the graph is left exactly as it was.
    Ingesting the same files again changes nothing.
    """
    chosen = resolve_spec(path, loader=loader, spec=spec, models=models, datasets=datasets,
                          accuracy_unit=accuracy_unit, scores=score_file, metric=metric,
                          score_rows=score_rows)
    zoo = build(chosen)
    if dry_run:
        result = {"valid": True, "loader": chosen.name, "models": len(zoo.models),
                  "datasets": len(zoo.datasets), "record_rows": zoo.record_rows,
                  "pairs": len(zoo.transfers), "scores": len(zoo.scores)}
        if as_json:
            _emit_json(result)
        else:
            click.echo(f"valid: {zoo.record_rows} record rows ({len(zoo.transfers)} pairs), "
                       f"metadata for {len(zoo.models)} models and {len(zoo.datasets)} "
                       f"datasets, {len(zoo.scores)} scores; nothing written (--dry-run)")
        return
    with obj.open() as g:
        summary = g.ingest(zoo, progress=not as_json and sys.stderr.isatty())
        location = g.location
    if as_json:
        _emit_json({"database": location, "loader": chosen.name, **summary.as_dict()})
        return
    rows = [{"kind": kind, "created": c.created, "updated": c.updated,
             "unchanged": c.unchanged}
            for kind, c in (("models", summary.models), ("datasets", summary.datasets),
                            ("observed edges", summary.transfers), ("scores", summary.scores))
            if c.total]
    click.echo(format_table(rows))
    if not summary.changed:
        click.echo(f"\nnothing changed in {location} (checked in {summary.seconds:.2f} s)")
        return
    rate = summary.as_dict()["edges_per_second"]
    click.echo(f"\nwrote {location} in {summary.seconds:.2f} s"
               + (f" ({rate:,.0f} edges/s)" if rate else ""))


# -- stats and query ------------------------------------------------------------------------

@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_ctx
@handle_errors
def stats(obj: Context, as_json: bool) -> None:
    """Node counts by label and relationship counts by type."""
    with obj.open() as g:
        counts = g.stats()
        location = g.location
    if as_json:
        _emit_json(counts)
        return
    click.echo(f"database: {location}\n")
    click.echo(format_table([{"label": k, "nodes": v} for k, v in counts["nodes"].items()]))
    click.echo()
    click.echo(format_table([{"type": k, "relationships": v}
                             for k, v in counts["relationships"].items()]))


def _parse_params(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param takes KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


@main.command()
@click.argument("name", required=False)
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
              help="A query parameter; repeat for several.")
@click.option("--list", "list_", is_flag=True, help="List the queries and their parameters.")
@click.option("--show", is_flag=True, help="Print the query's Cypher instead of running it.")
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON.")
@pass_ctx
@handle_errors
def query(obj: Context, name: str | None, params: tuple[str, ...], list_: bool, show: bool,
          as_json: bool) -> None:
    """Run a named Cypher query from cypher/queries (the same files work in Neo4j Browser).

    \b
      graphrec query --list
      graphrec query top-models --param dataset=task1_painting_10 --param k=3
    """
    if list_ or name is None:
        found = queries.user_queries()
        if as_json:
            _emit_json([{"name": n, "description": q.description,
                         "params": [{"name": p.name, "type": p.type, "required": p.required,
                                     "default": p.default, "doc": p.doc} for p in q.params]}
                        for n, q in found.items()])
            return
        click.echo(format_table([{"query": n, "parameters": q.signature(),
                                  "answers": q.description} for n, q in found.items()]))
        return
    q = queries.get(name)
    if show:
        click.echo(q.text.rstrip())
        return
    q = queries.user_query(name)  # graphrec's own queries are not run from here
    bound = q.bind(_parse_params(params))
    with obj.open() as g:
        rows = g.store.run(q.text, bound)
    if as_json:
        _emit_json(rows)
    else:
        click.echo(format_table(rows))


# -- proxy scores ---------------------------------------------------------------------------

@main.command()
@click.argument("model", required=False)
@click.argument("dataset", required=False)
@click.option("--features", type=click.Path(path_type=Path), metavar="NPY",
              help="Penultimate-layer features of the dataset's samples, (samples, dim): "
                   "LogME and H-Score.")
@click.option("--labels", type=click.Path(path_type=Path), metavar="NPY",
              help="The samples' target labels (class ids), one per feature row.")
@click.option("--source-probs", type=click.Path(path_type=Path), metavar="NPY",
              help="The model's softmax outputs over its own classes, (samples, classes): "
                   "LEEP and NCE.")
@click.option("--folder", type=click.Path(path_type=Path), metavar="DIR",
              help="Score every pair of a folder: DIR/<dataset>/labels.npy and "
                   "DIR/<dataset>/<model>.features.npy (and <model>.probs.npy).")
@click.option("--metrics", metavar="A,B,...",
              help="Which of logme, leep, nce, hscore (default: all the inputs allow).")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@pass_ctx
@handle_errors
def score(obj: Context, model: str | None, dataset: str | None, features: Path | None,
          labels: Path | None, source_probs: Path | None, folder: Path | None,
          metrics: str | None, as_json: bool) -> None:
    """Compute transferability scores and store them as SCORED edges.

    \b
      graphrec score resnet50 flowers --features f.npy --labels y.npy --source-probs p.npy
      graphrec score --folder features/ --metrics logme,leep

    LogME (You et al. 2021) and H-Score (Bao et al. 2019) read features; LEEP (Nguyen et
    al. 2020) and NCE (Tran et al. 2019) read the model's own softmax outputs. A new value
    replaces the metric's earlier one for the pair. The model must be in the graph; a new
    dataset is added by name. Every file is checked and every score computed before
    anything is written. Predictors read the scores on their next `graphrec train`.
    """
    from .names import clean_name
    from .scores.workflow import PairFiles, find_pairs, parse_metrics, score_pairs

    chosen = parse_metrics(metrics)
    if folder is not None:
        if model or dataset or features or labels or source_probs:
            raise UsageError("--folder scores every pair it holds: drop MODEL, DATASET, "
                             "--features, --labels and --source-probs")
        pairs = find_pairs(folder)
    else:
        if not model or not dataset:
            raise UsageError("name the MODEL and the DATASET to score (or give --folder DIR)")
        if labels is None:
            raise UsageError("--labels is needed: the target labels of the scored samples")
        if features is None and source_probs is None:
            raise UsageError("give --features (LogME, H-Score), --source-probs (LEEP, NCE), "
                             "or both")
        pairs = [PairFiles(clean_name(model, "model"), clean_name(dataset, "dataset"),
                           labels, features, source_probs)]
    with obj.open() as g:
        report = score_pairs(g.store, pairs, chosen,
                             progress=not as_json and sys.stderr.isatty())
        location = g.location
    if as_json:
        _emit_json({"database": location, **report.as_dict()})
        return
    click.echo(format_table(report.scores, ["model", "dataset", "metric", "value"]))
    data = report.as_dict()
    click.echo(f"\n{len(report.scores)} scores in {report.seconds:.2f} s: {data['created']} "
               f"new, {data['updated']} replaced, {data['unchanged']} unchanged "
               f"({location})")
    if data["datasets_added"]:
        click.echo(f"{data['datasets_added']} dataset(s) new to the graph were added by name; "
                   "give them metadata (graphrec ingest --datasets ...) so that predictors "
                   "can relate them to the others")


# -- learning: train, predict, recommend ----------------------------------------------------

@main.command()
@click.option("--model", "model", default="auto", show_default=True,
              help="Predictor: auto (the default: hla, linear, scg4trf and each proxy score, "
                   "chosen and blended on held-out datasets of this graph), hla, scg4trf, "
                   "g4trf (the paper's graph attention networks), or the baselines linear, "
                   "mc, mean, random and proxy (the proxy scores alone).")
@click.option("--epochs", type=click.IntRange(min=1),
              help="Training epochs of scg4trf/g4trf (default 300).")
@click.option("--seed", type=int, help="Seed of the predictors that take one (default 0).")
@click.option("--device", help="cpu (the default), or cuda on a GPU (scg4trf, g4trf).")
@click.option("--text-features", is_flag=True,
              help="Add sentence embeddings of dataset domain and label names (needs "
                   "graphrec[text]; runs offline).")
@click.option("--no-scores", is_flag=True,
              help="Ignore the proxy scores (SCORED edges); by default hla, scg4trf, g4trf "
                   "and linear read every metric the graph holds.")
@click.option("--coverage", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.8, show_default=True,
              help="Predicted scores get intervals meant to hold this share of the true "
                   "accuracies, calibrated on held-out splits of the graph.")
@click.option("--no-intervals", is_flag=True,
              help="Skip the intervals (and the extra fits that calibrate them).")
@click.option("--json", "as_json", is_flag=True, help="Print the predictor record as JSON.")
@pass_ctx
@handle_errors
def train(obj: Context, model: str, epochs: int | None, seed: int | None, device: str | None,
          text_features: bool, no_scores: bool, coverage: float, no_intervals: bool,
          as_json: bool) -> None:
    """Fit a predictor on every observed edge and record it as the current one."""
    from .predict import workflow

    with obj.open() as g:
        record = workflow.train(g.store, model, epochs=epochs, seed=seed, device=device,
                                text=text_features or None,
                                use_scores=False if no_scores else None,
                                coverage=None if no_intervals else coverage,
                                progress=not as_json and sys.stderr.isatty())
    if as_json:
        _emit_json(record)
        return
    loss = record.get("train_loss")
    read = json.loads(record.get("score_metrics") or "[]")
    click.echo(f"trained {record['id']} on {record['trained_on_edges']} observed edges in "
               f"{record['fit_seconds']:.1f} s" + (f" (train loss {loss:.5f})" if loss else "")
               + (f"; reads scores: {', '.join(read)}" if read else "")
               + "".join(f"\n  {line}" for line in workflow.describe_selection(record))
               + "".join(f"\n  {line}" for line in workflow.describe_intervals(record))
               + f"\ncheckpoint: {record['checkpoint']}\n{record['id']} is now the current "
               "predictor (`graphrec predictors list`); next: graphrec predict")


@main.command()
@click.option("--predictor", "predictor_id", metavar="ID",
              help="A predictor id (default: the current one).")
@click.option("--top-k", type=click.IntRange(min=1, max=MAX_ROWS), metavar="K",
              help="Keep only the K best-scored models per dataset.")
@click.option("--keep", is_flag=True,
              help="Keep the other predictors' predictions (by default the new set replaces "
                   "them once it is complete).")
@click.option("--stream", is_flag=True,
              help="Print the predictions (CSV: model,dataset,score,low,high; JSON lines "
                   "with --json) and write nothing.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes that score and write shards of the datasets in parallel.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_ctx
@handle_errors
def predict(obj: Context, predictor_id: str | None, top_k: int | None, keep: bool,
            stream: bool, workers: int, as_json: bool) -> None:
    """Score every model-dataset pair without an observed edge and write the scores.

    They are written as a new version of the predictor's predictions, which becomes the
    one `recommend` reads only when every edge is in; then it replaces the predictor's
    earlier version and (without --keep) every other predictor's predictions. A killed
    `predict` leaves the previous predictions in service.
    """
    import csv

    from .predict import workflow

    with obj.open() as g:
        if stream:
            if keep or workers > 1:
                raise UsageError("--stream writes nothing and runs in one process: drop "
                                 "--keep and --workers")
            rows = workflow.stream_predictions(g.store, predictor_id, top_k)
            out = csv.writer(sys.stdout, lineterminator="\n")
            if not as_json:
                out.writerow(["model", "dataset", "score", "low", "high"])
            for row in rows:
                if as_json:
                    sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
                else:
                    out.writerow([row["model"], row["dataset"], repr(row["score"]),
                                  *("" if row[k] is None else repr(row[k])
                                    for k in ("low", "high"))])
            return
        summary = workflow.predict(g.store, predictor_id, top_k, keep=keep, workers=workers,
                                   progress=not as_json and sys.stderr.isatty())
    if as_json:
        _emit_json(summary)
        return
    click.echo(f"{summary['predictor']}: wrote {summary['predicted']} predicted edges "
               f"({summary['observed']} observed edges untouched) in {summary['seconds']:.1f} s"
               f" as version {summary['version']}, now the one recommend reads"
               + (f"; removed {summary['removed']} replaced predicted edges"
                  if summary["removed"] else ""))


@main.command()
@click.argument("dataset")
@click.option("--k", type=click.IntRange(min=1, max=MAX_ROWS), default=5, show_default=True)
@click.option("--predictor", "predictor_id", metavar="ID",
              help="A predictor id (default: the most recently trained).")
@click.option("--domain", help="Cold start: the new dataset's domain (e.g. sketch).")
@click.option("--num-classes", type=click.IntRange(min=1), help="Cold start: classes.")
@click.option("--samples-per-class", type=click.IntRange(min=1),
              help="Cold start: training samples per class.")
@click.option("--train-size", type=click.IntRange(min=1), help="Cold start: training set size.")
@click.option("--labels", metavar="A,B,...", help="Cold start: class names, comma-separated.")
@click.option("--save", is_flag=True,
              help="Cold start: also store the new dataset (and its predictions) in the graph.")
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON.")
@pass_ctx
@handle_errors
def recommend(obj: Context, dataset: str, k: int, predictor_id: str | None,
              domain: str | None, num_classes: int | None, samples_per_class: int | None,
              train_size: int | None, labels: str | None, save: bool, as_json: bool) -> None:
    """Models ranked for DATASET: observed accuracies and predicted scores, marked as such.

    For a dataset with no history, describe it and graphrec scores it with the current
    predictor (no retraining) and recommends; it is stored only with --save. A domain or
    labels the graph has never seen get a warning with close names:

    \b
      graphrec recommend my_sketches --domain sketch --num-classes 10 \\
          --samples-per-class 30 --labels cat,dog,car
    """
    import warnings

    from .predict import workflow
    from .predict.cold import UnseenMetadataWarning, recommend_new

    meta = {"domain": domain, "num_classes": num_classes,
            "samples_per_class": samples_per_class, "labels": labels}
    if train_size is None and num_classes and samples_per_class:
        train_size = num_classes * samples_per_class
    meta["train_size"] = train_size
    cold = any(v is not None for v in meta.values())
    if save and not cold:
        raise UsageError("--save stores a new dataset: describe it (--domain, --num-classes, "
                         "...) or drop --save")
    with obj.open() as g, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnseenMetadataWarning)
        if cold:
            rows = recommend_new(g.store, dataset, meta, k, predictor_id, save=save)
        else:
            rows = workflow.recommend(g.store, dataset, k, predictor_id)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    if as_json:
        _emit_json(rows)
    else:
        click.echo(format_table(rows))


@main.command()
@click.argument("dataset")
@click.argument("model")
@click.option("--predictor", "predictor_id", metavar="ID",
              help="A predictor id (default: the current one).")
@click.option("--k", type=click.IntRange(min=1, max=MAX_ROWS), default=5, show_default=True,
              help="How many similar datasets to show.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_ctx
@handle_errors
def explain(obj: Context, dataset: str, model: str, predictor_id: str | None, k: int,
            as_json: bool) -> None:
    """Why MODEL is predicted where it is for DATASET: terms that add up to the score, what
    a blend is made of, and the most similar datasets MODEL was measured on.

    \b
      graphrec explain task1_sketch_10 resnet50
    """
    from .predict.explain import explain as run

    with obj.open() as g:
        data = run(g.store, dataset, model, predictor_id, k)
    if as_json:
        _emit_json(data)
        return
    interval = (f" ({data['coverage']:.0%} interval {data['low']:.4f} .. {data['high']:.4f})"
                if data["low"] is not None else "")
    observed = (f"; observed: {data['observed']['accuracy']:.4f}" if data["observed"] else "")
    click.echo(f"{data['model']} on {data['dataset']}: predicted {data['score']:.4f}{interval}"
               f" by {data['predictor']}{observed}\n")
    total = {"term": "= prediction", "value": sum(t["value"] for t in data["terms"]),
             "why": "the terms add up to the predicted score"}
    click.echo(format_table([*data["terms"], total], ["term", "value", "why"]))
    if data["components"]:
        click.echo("\nwhat the blend is made of:\n" + format_table(data["components"]))
    click.echo(f"\ndatasets most like {data['dataset']} on which {data['model']} was measured:"
               "\n" + format_table(data["similar"]))


@main.command()
@click.argument("dataset", required=False)
@click.option("--budget", type=click.IntRange(min=1, max=MAX_ROWS), default=1,
              show_default=True, help="How many fine-tuning runs to suggest.")
@click.option("--predictor", "predictor_id", metavar="ID",
              help="A predictor id (default: the current one).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_ctx
@handle_errors
def suggest(obj: Context, dataset: str | None, budget: int, predictor_id: str | None,
            as_json: bool) -> None:
    """The fine-tuning runs to do next on DATASET (or, without one, across the zoo), each
    with its reason.

    The loop it is measured for: fine-tune the first suggestion, ingest the result, train,
    ask again (benchmarks/bench_suggest.py).

    \b
      graphrec suggest my_sketches --budget 3
      graphrec suggest --budget 10        # the pairs that would change the most
    """
    from .predict.suggest import suggest as run

    with obj.open() as g:
        data = run(g.store, dataset, budget, predictor_id)
    if as_json:
        _emit_json(data)
        return
    if dataset is not None:
        best = data["best_measured"]
        click.echo(f"{data['dataset']}: {data['measured']} models measured"
                   + (f", best {best:.4f}" if best is not None else "")
                   + f"; suggestions of {data['predictor']}:\n")
        click.echo(format_table(data["picks"], ["rank", "model", "family", "score", "low",
                                                "high", "reason"]))
    else:
        click.echo(format_table(data["picks"], ["rank", "dataset", "model", "score",
                                                "best_measured", "reason"]))
    click.echo("\nafter fine-tuning: graphrec ingest the results, graphrec train, and ask "
               "again")


@main.group()
def plot() -> None:
    """Pictures: the transferability matrix, or one dataset's ranked models.

    \b
      graphrec plot matrix --out matrix.png
      graphrec plot dataset task1_sketch_10 --out sketch.png
    """


@plot.command("matrix")
@click.option("--out", type=click.Path(path_type=Path), required=True, metavar="FILE",
              help="The picture to write (.png, .svg or .pdf).")
@click.option("--predictor", "predictor_id", metavar="ID",
              help="A predictor id for the faded cells (default: the current one).")
@click.option("--max-datasets", type=click.IntRange(min=1), default=400, show_default=True,
              help="Draw a seeded sample of this many datasets at most.")
@click.option("--json", "as_json", is_flag=True, help="Print what was drawn as JSON.")
@pass_ctx
@handle_errors
def plot_matrix(obj: Context, out: Path, predictor_id: str | None, max_datasets: int,
                as_json: bool) -> None:
    """Models by family x datasets by domain: observed solid, predicted faded."""
    from .plots import plot_matrix as draw

    with obj.open() as g:
        info = draw(g.store, out, predictor_id, max_datasets)
    _emit_json(info) if as_json else click.echo(
        f"wrote {info['out']}: {info['models']} models x {info['datasets']} datasets, "
        f"{info['observed']} observed, {info['predicted']} predicted")


@plot.command("dataset")
@click.argument("dataset")
@click.option("--out", type=click.Path(path_type=Path), required=True, metavar="FILE",
              help="The picture to write (.png, .svg or .pdf).")
@click.option("--predictor", "predictor_id", metavar="ID",
              help="A predictor id (default: the current one).")
@click.option("--k", type=click.IntRange(min=1, max=MAX_ROWS),
              help="Only the best K models (default: every model).")
@click.option("--json", "as_json", is_flag=True, help="Print what was drawn as JSON.")
@pass_ctx
@handle_errors
def plot_dataset(obj: Context, dataset: str, out: Path, predictor_id: str | None,
                 k: int | None, as_json: bool) -> None:
    """DATASET's models, best first, with intervals; observed ones marked."""
    from .plots import plot_dataset as draw

    with obj.open() as g:
        info = draw(g.store, dataset, out, predictor_id, k)
    _emit_json(info) if as_json else click.echo(
        f"wrote {info['out']}: {info['models']} models ({info['observed']} observed)")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_ctx
@handle_errors
def status(obj: Context, as_json: bool) -> None:
    """The current predictor, observed and predicted counts, and whether predictions are
    stale (observed edges, or the scores it reads, changed after it was trained)."""
    from .predict import workflow

    with obj.open() as g:
        data = workflow.status(g.store)
    if as_json:
        _emit_json(data)
        return
    record = data["predictor"]
    if record is None:
        click.echo(f"no predictor yet ({data['observed']} observed edges); run graphrec train")
        return
    served = (f" (version {data['version']}, written {data['predicted_at']})"
              if data["version"] else " (none yet: run graphrec predict)")
    click.echo(f"predictor: {record['id']} ({record['model']}, trained {record['created_at']} "
               f"on {record['trained_on_edges']} edges)\nobserved:  {data['observed']}\n"
               f"predicted: {data['predicted']}{served}")
    for line in workflow.describe_selection(record):
        click.echo(f"  {line}")
    if data["stale"]:
        changed = max(c for c in (data["last_observed_change"], data["last_score_change"])
                      if c and c > data["read_at"])
        what = ("observed edges" if changed == data["last_observed_change"]
                else "the scores it reads")
        click.echo(f"stale: {what} changed at {changed}, after training; run graphrec train, "
                   "then graphrec predict")


@main.group()
def predictors() -> None:
    """List, switch and drop trained predictors.

    \b
      graphrec predictors list
      graphrec predictors use ID     # recommend reads ID's predictions from now on
      graphrec predictors drop ID    # its predictions, node and checkpoint
    """


@predictors.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@pass_ctx
@handle_errors
def predictors_list(obj: Context, as_json: bool) -> None:
    """Every trained predictor, newest first; * marks the current one."""
    with obj.open() as g:
        records = g.predictors()
    if as_json:
        _emit_json(records)
        return
    if not records:
        click.echo("no predictors yet; run graphrec train")
        return
    click.echo(format_table([{
        "": "*" if r["current"] else "", "id": r["id"], "model": r["model"],
        "trained": r["created_at"], "edges": r.get("trained_on_edges"),
        "predicted": r["predicted"], "version": r.get("version") or "-"} for r in records]))


@predictors.command("use")
@click.argument("predictor_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@pass_ctx
@handle_errors
def predictors_use(obj: Context, predictor_id: str, as_json: bool) -> None:
    """Make ID the current predictor: recommend, predict and cold start use it."""
    with obj.open() as g:
        record = g.use_predictor(predictor_id)
    if as_json:
        _emit_json(record)
        return
    note = ("" if record.get("version") else
            "; it has no predictions yet (or they were replaced): run graphrec predict")
    click.echo(f"{predictor_id} is now the current predictor{note}")


@predictors.command("drop")
@click.argument("predictor_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
@pass_ctx
@handle_errors
def predictors_drop(obj: Context, predictor_id: str, as_json: bool) -> None:
    """Remove predictor ID: its predicted edges, its node and its checkpoint."""
    with obj.open() as g:
        result = g.drop_predictor(predictor_id)
    if as_json:
        _emit_json(result)
        return
    click.echo(f"dropped {predictor_id}: {result['predicted_edges_deleted']} predicted edges"
               + (", its checkpoint" if result["checkpoint_deleted"] else ""))
    if result["was_current"]:
        click.echo(f"current predictor now: {result['current']}" if result["current"]
                   else "no predictor left; run graphrec train")


@main.group()
def db() -> None:
    """Set up a database; start, stop and inspect the embedded database's server.

    Every command starts the embedded server when needed; it then stays up for the next
    command and stops by itself after an idle time (GRAPHREC_SERVER_IDLE seconds, default
    900). `init` creates graphrec's constraints and indexes on any database.

    \b
      graphrec --db neo4j+s://admin@host db init   # once, as a user who may change schema
      graphrec db start --idle 3600   # keep it up for an hour of quiet
      graphrec db status
      graphrec db stop
    """


@db.command("init")
@click.option("--json", "as_json", is_flag=True, help="Print {database, schema} as JSON.")
@pass_ctx
@handle_errors
def db_init(obj: Context, as_json: bool) -> None:
    """Create the constraints and indexes graphrec needs, where missing.

    Writing commands do this themselves before their first write; run it once as an
    administrator on a database that users allowed only to read will query (Aura roles).
    """
    from .store import connect

    with connect(obj.db) as store:
        store.ensure_schema()
        location = store.location
    if as_json:
        _emit_json({"database": location, "schema": "ready"})
    else:
        click.echo(f"schema ready: {location}")


def _describe_server(info: dict[str, Any]) -> str:
    memory = info.get("memory_bytes")
    return (f"running: pid {info['pid']}, {info['folder']}\n"
            f"idle stop: after {info['idle_s']:g} s without a user"
            + ("" if info["watchdog"] or not info["idle_s"] else " (watchdog not running)")
            + f"\nin use: {'yes' if info['in_use'] else 'no'}"
            + (f"\nuptime: {info['uptime_s']} s" if info.get("uptime_s") is not None else "")
            + (f"\nmemory: {memory / 2**20:.1f} MiB" if memory else "")
            + f"\nlog on disk: {info['log_bytes'] / 2**20:.1f} MiB")


@db.command("start")
@click.option("--idle", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after this long without a user (default: GRAPHREC_SERVER_IDLE, "
                   "else 900). Changes a running server's idle time too.")
@click.option("--json", "as_json", is_flag=True, help="Print the server's state as JSON.")
@pass_ctx
@handle_errors
def db_start(obj: Context, idle: float | None, as_json: bool) -> None:
    """Start the server now (or keep the running one)."""
    from . import server

    info = server.start(obj.db, idle)
    if as_json:
        _emit_json(info)
    else:
        click.echo(_describe_server(info))


@db.command("stop")
@click.option("--force", is_flag=True, help="Stop it even while another graphrec uses it.")
@click.option("--json", "as_json", is_flag=True, help="Print {stopped: bool} as JSON.")
@pass_ctx
@handle_errors
def db_stop(obj: Context, force: bool, as_json: bool) -> None:
    """Fold the log into a snapshot and stop the server."""
    from . import server

    stopped = server.stop(obj.db, force=force)
    if as_json:
        _emit_json({"stopped": stopped})
    else:
        click.echo("stopped" if stopped else "not running")


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the server's state as JSON.")
@pass_ctx
@handle_errors
def db_status(obj: Context, as_json: bool) -> None:
    """Whether the server runs, and its idle time, uptime, memory and log size."""
    from . import server

    info = server.status(obj.db)
    if as_json:
        _emit_json({"running": info is not None, **(info or {})})
    else:
        click.echo(_describe_server(info) if info else "not running")


# -- synth and info -------------------------------------------------------------------------

@main.command()
@click.option("--protocol", type=click.Choice(["paper", "holdout"]), default="paper",
              show_default=True,
              help="paper: the paper's stratified masks and metrics; holdout: datasets held "
                   "out whole (cold) and in part, scored on hidden entries (weighted tau, "
                   "top-1 regret, recall@3).")
@click.option("--suite", type=click.Path(path_type=Path), metavar="DIR",
              help="Run every zoo under DIR (held-out protocol; the paper's too for "
                   "DomainNet) and summarise the default against the best per zoo.")
@click.option("--cold", type=click.FloatRange(min=0, max=1, max_open=True),
              help="holdout: share of datasets held out whole (default 0.25).")
@click.option("--hidden", type=click.FloatRange(min=0, max=1),
              help="holdout: share of the other datasets' entries hidden (default 0.5).")
@click.option("--first-seed", type=click.IntRange(min=0),
              help="holdout and --suite: seed of the first repetition (default 0; tune on "
                   "other seeds than you report).")
@click.option("--data", type=click.Path(path_type=Path), metavar="DIR",
              help="Input files (a folder, or a records CSV); without it, the graph in the "
                   "database (--db).")
@click.option("--loader", metavar="NAME", help="Built-in loader for --data (detected if "
              "omitted).")
@click.option("--spec", type=click.Path(path_type=Path), metavar="FILE",
              help="Your own loader spec for --data.")
@click.option("--seeds", type=click.IntRange(min=1),
              help="Repetitions (default: 10; 3 for --protocol holdout; 10 per zoo for "
                   "--suite).")
@click.option("--methods", metavar="A,B,...",
              help="Methods to compare (default: all that can run): random, mean, mc, lr, "
                   "linear, g4trf, scg4trf, g4trf-given, scg4trf-given, hla, auto; with proxy "
                   "scores also proxy, lr+scores, linear+scores, scg4trf+scores, hla+scores "
                   "and score:<metric> (one score alone).")
@click.option("--masks", type=click.Choice(["auto", "authors", "seeded"]), default="auto",
              show_default=True, help="authors: the authors' exact draw (complete matrix, "
              "<= 10 seeds); seeded: the same design for any matrix; auto picks.")
@click.option("--epochs", type=click.IntRange(min=1),
              help="Training epochs of the GAT methods (default 500, the paper's buckets; "
                   "300 for holdout and --suite, as train).")
@click.option("--avg-epochs", type=click.IntRange(min=1),
              help="Epoch at which the GATs' Avg is read (default 300, or --epochs if fewer).")
@click.option("--model-features", type=click.Path(path_type=Path), metavar="FILE",
              help="Model feature rows (.npy or CSV) for the -given methods; found in a "
                   "--data folder as *_source_embedding.npy.")
@click.option("--dataset-features", type=click.Path(path_type=Path), metavar="FILE",
              help="Dataset feature rows, as --model-features (*_target_embedding.npy).")
@click.option("--max-datasets", type=click.IntRange(min=10), metavar="N",
              help="Benchmark a seeded random sample of N datasets (for large zoos).")
@click.option("--intervals", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              metavar="COVERAGE",
              help="holdout: also calibrate each method's intervals (e.g. 0.8) on the known "
                   "entries, as train does, and report their coverage and width.")
@score_matrix_options
@click.option("--device", default="cpu", show_default=True, help="cpu, or cuda on a GPU.")
@click.option("--out", type=click.Path(path_type=Path), metavar="DIR",
              help="Write results.json, results.csv, repetitions.csv, table.md, buckets.png.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@pass_ctx
@handle_errors
def benchmark(obj: Context, protocol: str, suite: Path | None, cold: float | None,
              hidden: float | None, first_seed: int | None, data: Path | None, loader: str | None,
              spec: Path | None, seeds: int | None, methods: str | None, masks: str,
              epochs: int | None,
              avg_epochs: int | None, model_features: Path | None,
              dataset_features: Path | None, max_datasets: int | None,
              intervals: float | None, score_file: Path | None, metric: str | None,
              score_rows: str, device: str, out: Path | None, as_json: bool) -> None:
    """Compare predictors on the paper's protocol: same masks, side by side with the paper.

    \b
    graphrec benchmark --data path/to/domainnet                  # the paper's Table 2
    graphrec benchmark --data path/to/domainnet --seeds 2 --epochs 50   # quick look
    graphrec --db my-zoo benchmark --methods mean,scg4trf --out results/
    graphrec benchmark --data zoo/ --scores zoo/scores.csv --metric synthetic \\
        --methods hla,hla+scores                              # with and without scores
    """
    from .api import benchmark as run
    from .benchmark.report import RESULT_FILES, SUITE_FILES, check_out, write

    chosen = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    if methods is not None and not chosen:
        raise UsageError("--methods is empty; name at least one method")
    if out is not None:
        check_out(out, SUITE_FILES if suite is not None else RESULT_FILES)  # before the run
    if suite is None and protocol == "paper":
        given = [f"--{k}" for k, v in (("cold", cold), ("hidden", hidden),
                                        ("first-seed", first_seed)) if v is not None]
        if given:
            raise UsageError(f"{', '.join(given)} set(s) the held-out protocol's masks: add "
                             "--protocol holdout (the paper's protocol draws its own)")
    if suite is not None and (cold is not None or hidden is not None):
        raise UsageError("--suite uses the held-out protocol's default design; --cold and "
                         "--hidden apply to --protocol holdout on one zoo")
    first_seed = first_seed or 0
    progress = not as_json and sys.stderr.isatty()
    if suite is not None:
        if data is not None or loader or spec or score_file:
            raise UsageError("--suite finds its zoos itself: drop --data/--loader/--spec/"
                             "--scores")
        from .benchmark.suite import run_suite

        try:
            result = run_suite(suite, seeds=seeds or 10, methods=chosen, epochs=epochs or 300,
                               first_seed=first_seed, max_datasets=max_datasets,
                               progress=progress)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        holdout = protocol == "holdout"
        if intervals is not None and not holdout:
            raise UsageError("--intervals are measured on held-out datasets: add --protocol "
                             "holdout")
        extra = ({"cold": 0.25 if cold is None else cold,
                  "hidden": 0.5 if hidden is None else hidden,
                  "first_seed": first_seed, "intervals": intervals} if holdout else {})
        result = run(data, loader=loader, spec=spec, db=obj.db, model_features=model_features,
                     dataset_features=dataset_features, max_datasets=max_datasets,
                     scores=score_file, metric=metric, score_rows=score_rows, methods=chosen,
                     protocol=protocol, seeds=seeds or (3 if holdout else 10), masks=masks,
                     epochs=epochs or (300 if holdout else 500), avg_epochs=avg_epochs,
                     device=device, progress=progress, **extra)
    files = result.write(out) if suite is not None and out else (
        write(result, out) if out else {})
    if as_json:
        _emit_json({**result.as_dict(), "files": {k: str(v) for k, v in files.items()}})
        return
    click.echo(result.markdown())
    if files:
        click.echo(f"\nwrote {', '.join(str(p) for p in files.values())}")


@main.command()
@click.option("--models", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--datasets", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--density", type=click.FloatRange(min=0, max=1, min_open=True), default=0.3,
              show_default=True, help="Fraction of model x dataset pairs observed.")
@click.option("--runs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Records per observed pair (repeated fine-tuning runs).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--pair-sd", type=click.FloatRange(min=0), default=0.15, show_default=True,
              help="Spread (logit scale) of the pair effects that metadata cannot explain.")
@click.option("--score-noise", type=click.FloatRange(min=0), metavar="SD",
              help="Also write scores.csv: a proxy score (metric 'synthetic') for every "
                   "pair, the pair's true logit plus noise of this SD.")
@click.option("--out", type=click.Path(path_type=Path), required=True, metavar="DIR",
              help="Folder for records.csv, models.csv and datasets.csv (and scores.csv).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@handle_errors
def synth(models: int, datasets: int, density: float, runs: int, seed: int, pair_sd: float,
          score_noise: float | None, out: Path, as_json: bool) -> None:
    """Generate a synthetic model zoo in the generic records format.

    Families share behaviour, datasets have domains and overlapping label sets, and
    accuracies follow the metadata plus noise, so there is structure to learn.
    """
    from .synth import generate_zoo

    try:
        summary = generate_zoo(models, datasets, density, seed, out, runs=runs,
                               progress=not as_json and sys.stderr.isatty(), pair_sd=pair_sd,
                               score_noise=score_noise)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write to {out}: {exc.strerror}") from None
    if as_json:
        _emit_json({"models": summary.models, "datasets": summary.datasets,
                    "records": summary.records,
                    "files": {k: str(v) for k, v in summary.files.items()}})
        return
    from shlex import quote

    click.echo(f"wrote {summary.records} records for {summary.models} models x "
               f"{summary.datasets} datasets to {summary.out_dir}\n"
               f"ingest with: graphrec ingest {quote(str(summary.files['records']))} "
               f"--models {quote(str(summary.files['models']))} "
               f"--datasets {quote(str(summary.files['datasets']))}"
               + (f" --scores {quote(str(summary.files['scores']))} --metric synthetic"
                  if "scores" in summary.files else ""))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON.")
@handle_errors
def demo(as_json: bool) -> None:
    """Run the whole path on a synthetic zoo: generate, ingest, query.

    Uses its own database under GRAPHREC_HOME/demo; your data is not touched.
    """
    from .demo import run_demo

    result = run_demo(lambda text: None if as_json else click.echo(text))
    if as_json:
        _emit_json(result)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_ctx
@handle_errors
def info(obj: Context, as_json: bool) -> None:
    """Which database graphrec uses, and how much of the matrix is observed."""
    with obj.open() as g:
        data = {"database": g.location, "backend": g.store.backend,
                **g.query("coverage-summary")[0]}
    if as_json:
        _emit_json(data)
    else:
        for key, value in data.items():
            click.echo(f"{key:>10}: {value:.4f}" if isinstance(value, float)
                       else f"{key:>10}: {value}")


# -- serve ----------------------------------------------------------------------------------

@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; a non-loopback one needs --allow-remote.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port (0: any free one, printed at start).")
@click.option("--allow-remote", is_flag=True,
              help="Allow a non-loopback --host. The API has no authentication: anyone who "
                   "can reach the port can read and change the graph.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info",
                                                "debug"]), default="info", show_default=True)
@pass_ctx
@handle_errors
def serve(obj: Context, host: str, port: int, allow_remote: bool, log_level: str) -> None:
    """Serve the graph as an HTTP JSON API until Ctrl+C (OpenAPI docs at /docs).

    \b
      GET  /health   GET /status   GET /recommend?dataset=NAME&k=5
      POST /recommend  (cold start)   POST /records  (new fine-tuning results)
    """
    from .serve import run

    run(obj.db, host, port, allow_remote=allow_remote, log_level=log_level)


if __name__ == "__main__":  # pragma: no cover
    main()
