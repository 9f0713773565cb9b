"""Operations: `db init|start|stop|status`, `serve`, `benchmark`, `demo`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from .group import Context, main, pass_ctx, score_matrix_options
from .output import emit_json, format_table, handle_errors

# -- db -------------------------------------------------------------------------------------

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
    from ..store import connect

    with connect(obj.db) as store:
        store.ensure_schema()
        location = store.location
    if as_json:
        emit_json({"database": location, "schema": "ready"})
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
    from .. import server

    info = server.start(obj.db, idle)
    if as_json:
        emit_json(info)
    else:
        click.echo(_describe_server(info))


@db.command("stop")
@click.option("--force", is_flag=True, help="Stop it even while another graphrec uses it.")
@click.option("--json", "as_json", is_flag=True, help="Print {stopped: bool} as JSON.")
@pass_ctx
@handle_errors
def db_stop(obj: Context, force: bool, as_json: bool) -> None:
    """Fold the log into a snapshot and stop the server."""
    from .. import server

    stopped = server.stop(obj.db, force=force)
    if as_json:
        emit_json({"stopped": stopped})
    else:
        click.echo("stopped" if stopped else "not running")


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the server's state as JSON.")
@pass_ctx
@handle_errors
def db_status(obj: Context, as_json: bool) -> None:
    """Whether the server runs, and its idle time, uptime, memory and log size."""
    from .. import server

    info = server.status(obj.db)
    if as_json:
        emit_json({"running": info is not None, **(info or {})})
    else:
        click.echo(_describe_server(info) if info else "not running")


# -- benchmark ------------------------------------------------------------------------------

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
    from ..api import benchmark as run
    from ..benchmark.report import RESULT_FILES, SUITE_FILES, check_out, write

    chosen = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    if methods is not None and not chosen:
        raise UsageError("--methods is empty; name at least one method")
    if out is not None:
        check_out(out, SUITE_FILES if suite is not None else RESULT_FILES)  # before the run
    if suite is not None and (cold is not None or hidden is not None):
        raise UsageError("--suite uses the held-out protocol's default design; --cold and "
                         "--hidden apply to --protocol holdout on one zoo")
    progress = not as_json and sys.stderr.isatty()
    if suite is not None:
        if data is not None or loader or spec or score_file:
            raise UsageError("--suite finds its zoos itself: drop --data/--loader/--spec/"
                             "--scores")
        from ..benchmark.suite import run_suite

        given = {k: v for k, v in (("seeds", seeds), ("epochs", epochs),
                                   ("first_seed", first_seed)) if v is not None}
        try:
            result = run_suite(suite, methods=chosen, max_datasets=max_datasets,
                               progress=progress, **given)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        result = run(data, loader=loader, spec=spec, db=obj.db, model_features=model_features,
                     dataset_features=dataset_features, max_datasets=max_datasets,
                     scores=score_file, metric=metric, score_rows=score_rows, methods=chosen,
                     protocol=protocol, seeds=seeds, masks=masks, epochs=epochs,
                     avg_epochs=avg_epochs, cold=cold, hidden=hidden,
                     first_seed=first_seed or 0, intervals=intervals, device=device,
                     progress=progress)
    files = result.write(out) if suite is not None and out else (
        write(result, out) if out else {})
    if as_json:
        emit_json({**result.as_dict(), "files": {k: str(v) for k, v in files.items()}})
        return
    click.echo(result.markdown())
    if files:
        click.echo(f"\nwrote {', '.join(str(p) for p in files.values())}")


# -- demo -----------------------------------------------------------------------------------

@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON.")
@handle_errors
def demo(as_json: bool) -> None:
    """Run the whole path on a synthetic zoo: generate, ingest, train the default predictor
    (auto), predict, and recommend (for a new dataset too).

    Uses its own database under GRAPHREC_HOME/demo; your data is not touched.
    """
    from ..demo import run_demo

    def show(text: str, rows: list[dict[str, Any]] | None) -> None:
        click.echo(text)
        if rows is not None:
            click.echo(format_table(rows, ["model", "family", "source", "score"]))

    result = run_demo(None if as_json else show)
    if as_json:
        emit_json(result)


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
    from ..serve import run

    run(obj.db, host, port, allow_remote=allow_remote, log_level=log_level)
