"""`graphrec demo`: the whole path on a synthetic zoo, with nothing to install or download."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .api import open as open_graph
from .config import default_home
from .synth import generate_zoo


def run_demo(echo: Callable[[str], None], home: Path | None = None, *, models: int = 30,
             datasets: int = 300, density: float = 0.3, seed: int = 0,
             epochs: int = 300) -> dict:
    """Generate a zoo, ingest it, train the default predictor, predict, and recommend (cold
    start too)."""
    from .cli import format_table
    from .predict import workflow
    from .predict.cold import recommend_new

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
        record = workflow.train(g.store, epochs=epochs, seed=seed)
        echo(f"3. trained {record['id']} on {record['trained_on_edges']} observed edges in "
             f"{record['fit_seconds']:.1f} s")
        predicted = workflow.predict(g.store)
        echo(f"4. wrote {predicted['predicted']} predicted edges for the pairs never measured")
        names = [r["dataset"] for r in g.query("coverage", k=3)]
        answers = {}
        for name in names:
            rows = workflow.recommend(g.store, name, k=5)
            answers[name] = rows
            echo(f"5. recommended for {name} (least measured):\n"
                 + format_table(rows, ["model", "family", "source", "score"]))
        cold = {"domain": "sketch", "num_classes": 8, "samples_per_class": 30,
                "train_size": 240, "labels": ["cat", "dog", "airplane", "apple", "bear",
                                              "bicycle", "bird", "book"]}
        name = "my_new_sketch_dataset"
        rows = recommend_new(g.store, name, cold, k=5)  # scored in memory, not stored
        answers[name] = rows
        echo(f"6. cold start: {name}, a dataset with no history, from its metadata alone:\n"
             + format_table(rows, ["model", "family", "source", "score"]))
    echo("\nNext: graphrec --db " + str(base / "db") + " query --list")
    return {"zoo": str(zoo.out_dir), "database": str(base / "db"), "predictor": record["id"],
            "recommendations": answers}
