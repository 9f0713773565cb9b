"""Decisions: `recommend`, `explain`, `suggest`, `plot matrix|dataset`."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from ..queries import MAX_ROWS
from .group import Context, main, pass_ctx
from .output import emit_json, emit_warning, format_table, handle_errors

# -- recommend, explain, suggest ------------------------------------------------------------

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

    from ..predict import workflow
    from ..predict.cold import UnseenMetadataWarning, recommend_new

    meta = {"domain": domain, "num_classes": num_classes,
            "samples_per_class": samples_per_class, "train_size": train_size,
            "labels": labels}
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
        emit_warning(w.message, as_json=as_json)  # JSON lines under --json
    if as_json:
        emit_json(rows)
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
    from ..predict.explain import explain as run

    with obj.open() as g:
        data = run(g.store, dataset, model, predictor_id, k)
    if as_json:
        emit_json(data)
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
    from ..predict.suggest import suggest as run

    with obj.open() as g:
        data = run(g.store, dataset, budget, predictor_id)
    if as_json:
        emit_json(data)
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


# -- plot -----------------------------------------------------------------------------------

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
    from ..plots import plot_matrix as draw

    with obj.open() as g:
        info = draw(g.store, out, predictor_id, max_datasets)
    emit_json(info) if as_json else click.echo(
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
    from ..plots import plot_dataset as draw

    with obj.open() as g:
        info = draw(g.store, dataset, out, predictor_id, k)
    emit_json(info) if as_json else click.echo(
        f"wrote {info['out']}: {info['models']} models ({info['observed']} observed)")
