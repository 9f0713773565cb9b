"""Data in and looking at it: `ingest`, `score`, `synth`, `stats`, `info`, `query`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from .. import queries
from ..errors import UsageError
from ..loaders import build, builtin_specs
from ..loaders.read import resolve_spec
from .group import Context, main, pass_ctx, score_matrix_options
from .output import emit_json, format_table, handle_errors

# -- ingest ---------------------------------------------------------------------------------

def _loader_help() -> str:
    try:
        names = ", ".join([*builtin_specs(), "zoo"])
    except FileNotFoundError:  # pragma: no cover - broken installation
        names = "?"
    return (f"A built-in loader for PATH (a folder): {names}. A folder holding records.csv "
            "is read as a zoo (models.csv, datasets.csv, scores_<metric>.csv beside it) "
            "without one.")


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
            emit_json(result)
        else:
            click.echo(f"valid: {zoo.record_rows} record rows ({len(zoo.transfers)} pairs), "
                       f"metadata for {len(zoo.models)} models and {len(zoo.datasets)} "
                       f"datasets, {len(zoo.scores)} scores; nothing written (--dry-run)")
        return
    with obj.open() as g:
        summary = g.ingest(zoo, progress=not as_json and sys.stderr.isatty())
        location = g.location
    if as_json:
        emit_json({"database": location, "loader": chosen.name, **summary.as_dict()})
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
        emit_json(counts)
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
            emit_json([{"name": n, "description": q.description,
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
        emit_json(rows)
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
    if folder is not None and (model or dataset or features or labels or source_probs):
        raise UsageError("--folder scores every pair it holds: drop MODEL, DATASET, "
                         "--features, --labels and --source-probs")
    if folder is None:
        if not model or not dataset:
            raise UsageError("name the MODEL and the DATASET to score (or give --folder DIR)")
        if labels is None:
            raise UsageError("--labels is needed: the target labels of the scored samples")
        if features is None and source_probs is None:
            raise UsageError("give --features (LogME, H-Score), --source-probs (LEEP, NCE), "
                             "or both")
    from ..scores.workflow import parse_metrics

    parse_metrics(metrics)  # a misspelt metric fails before the database starts
    progress = not as_json and sys.stderr.isatty()
    with obj.open() as g:
        data = (g.score_folder(folder, metrics=metrics, progress=progress) if folder is not None
                else g.score(model, dataset, labels=labels, features=features,
                             source_probs=source_probs, metrics=metrics, progress=progress))
        location = g.location
    if as_json:
        emit_json({"database": location, **data})
        return
    click.echo(format_table(data["scores"], ["model", "dataset", "metric", "value"]))
    click.echo(f"\n{len(data['scores'])} scores in {data['seconds']:.2f} s: {data['created']} "
               f"new, {data['updated']} replaced, {data['unchanged']} unchanged "
               f"({location})")
    if data["datasets_added"]:
        click.echo(f"{data['datasets_added']} dataset(s) new to the graph were added by name; "
                   "give them metadata (graphrec ingest --datasets ...) so that predictors "
                   "can relate them to the others")


# -- synth and info -------------------------------------------------------------------------

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
    from ..synth import generate_zoo

    try:
        summary = generate_zoo(models, datasets, density, seed, out, runs=runs,
                               progress=not as_json and sys.stderr.isatty(), pair_sd=pair_sd,
                               score_noise=score_noise)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write to {out}: {exc.strerror}") from None
    if as_json:
        emit_json({"models": summary.models, "datasets": summary.datasets,
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
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_ctx
@handle_errors
def info(obj: Context, as_json: bool) -> None:
    """Which database graphrec uses, and how much of the matrix is observed."""
    with obj.open() as g:
        data = {"database": g.location, "backend": g.store.backend,
                **g.query("coverage-summary")[0]}
    if as_json:
        emit_json(data)
    else:
        for key, value in data.items():
            click.echo(f"{key:>10}: {value:.4f}" if isinstance(value, float)
                       else f"{key:>10}: {value}")


@main.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]),
              help="The file format (default: from the suffix, .csv or .parquet).")
@click.option("--predictor", "predictor_id", metavar="ID",
              help="Whose predictions fill the unmeasured pairs (default: the current one).")
@click.option("--wide", is_flag=True,
              help="A models x datasets grid of scores instead of one row per pair.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@pass_ctx
@handle_errors
def export(obj: Context, out: Path, fmt: str | None, predictor_id: str | None, wide: bool,
           force: bool, as_json: bool) -> None:
    """Write the completed matrix to OUT (CSV or Parquet): one row per (model, dataset),
    its measured accuracy (runs, std) or else its predicted score with the interval."""
    with obj.open() as g:
        info = g.export(out, format=fmt, predictor=predictor_id, wide=wide, overwrite=force)
    emit_json(info) if as_json else click.echo(
        f"wrote {info['file']}: {info['rows']} rows ({info['form']}), {info['observed']} "
        f"observed and {info['predicted']} predicted pairs"
        + (f" by {info['predictor']}" if info["predictor"] else ""))
