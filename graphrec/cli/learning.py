"""Learning from the graph: `train`, `predict`, `status`, `predictors list|use|drop`."""

from __future__ import annotations

import json
import sys

import click

from ..errors import UsageError
from ..queries import MAX_ROWS
from .group import Context, main, pass_ctx
from .output import emit_json, format_table, handle_errors

# -- train and predict ----------------------------------------------------------------------

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
    from ..predict import workflow

    with obj.open() as g:
        record = workflow.train(g.store, model, epochs=epochs, seed=seed, device=device,
                                text=text_features or None,
                                use_scores=False if no_scores else None,
                                coverage=None if no_intervals else coverage,
                                progress=not as_json and sys.stderr.isatty())
    if as_json:
        emit_json(record)
        return
    loss = record.get("train_loss")
    read = record.get("score_metrics") or []
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

    from ..predict import workflow

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
        emit_json(summary)
        return
    click.echo(f"{summary['predictor']}: wrote {summary['predicted']} predicted edges "
               f"({summary['observed']} observed edges untouched) in {summary['seconds']:.1f} s"
               f" as version {summary['version']}, now the one recommend reads"
               + (f"; removed {summary['removed']} replaced predicted edges"
                  if summary["removed"] else ""))


# -- status and predictors ------------------------------------------------------------------

@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_ctx
@handle_errors
def status(obj: Context, as_json: bool) -> None:
    """The current predictor, observed and predicted counts, and whether predictions are
    stale (observed edges, or the scores it reads, changed after it was trained)."""
    from ..predict import workflow

    with obj.open() as g:
        data = workflow.status(g.store)
    if as_json:
        emit_json(data)
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
        emit_json(records)
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
        emit_json(record)
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
        emit_json(result)
        return
    click.echo(f"dropped {predictor_id}: {result['predicted_edges_deleted']} predicted edges"
               + (", its checkpoint" if result["checkpoint_deleted"] else ""))
    if result["was_current"]:
        click.echo(f"current predictor now: {result['current']}" if result["current"]
                   else "no predictor left; run graphrec train")
