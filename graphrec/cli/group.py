"""The `graphrec` group: its options, the Context each command gets, shared options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from .. import __version__
from ..api import Graphrec
from ..api import open as open_graph
from .output import JsonErrorsGroup


class Context:
    """Lazily opened database shared by one command."""

    def __init__(self, db: str | None) -> None:
        self.db = db

    def open(self) -> Graphrec:
        return open_graph(self.db)


pass_ctx = click.make_pass_decorator(Context)


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


def score_matrix_options(fn: Callable) -> Callable:
    """--scores FILE --metric NAME [--score-rows]: a wide matrix of proxy scores (ingest and
    benchmark)."""
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
