"""`graphrec demo`: the whole path on a synthetic zoo, with nothing to install or download."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .api import open as open_graph
from .config import default_home
from .synth import generate_zoo


def run_demo(echo: Callable[[str], None], home: Path | None = None, *, models: int = 30,
             datasets: int = 300, density: float = 0.3, seed: int = 0) -> dict:
    """Generate a zoo, ingest it into a demo database, and answer a few questions."""
    from .cli import format_table

    base = (home or default_home()) / "demo"
    zoo = generate_zoo(models, datasets, density, seed, base / "zoo")
    echo(f"1. generated a synthetic zoo: {zoo.models} models, {zoo.datasets} datasets, "
         f"{zoo.records} fine-tuning records in {zoo.out_dir}")
    with open_graph(str(base / "db")) as g:
        summary = g.ingest(zoo.files["records"], models=zoo.files["models"],
                           datasets=zoo.files["datasets"])
        echo(f"2. ingested into {g.location}: {summary.transfers.created} new and "
             f"{summary.transfers.unchanged} unchanged observed edges "
             f"in {summary.seconds:.2f} s")
        counts = g.stats()
        echo("3. the graph:\n" + format_table(
            [{"label": k, "nodes": v} for k, v in counts["nodes"].items()]))
        names = [r["dataset"] for r in g.query("coverage", k=datasets)][-3:]
        answers = {}
        for name in names:
            rows = g.query("top-models", dataset=name, k=3)
            answers[name] = rows
            echo(f"4. best observed models for {name}:\n"
                 + format_table(rows, ["model", "family", "accuracy"]))
        similar = g.query("similar-datasets", dataset=names[0], k=3)
        echo(f"5. datasets most like {names[0]} (shared labels, same domain):\n"
             + format_table(similar))
    echo("\nNext: graphrec --db " + str(base / "db") + " query --list")
    return {"zoo": str(zoo.out_dir), "database": str(base / "db"), "top_models": answers}
