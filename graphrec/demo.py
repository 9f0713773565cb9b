"""`graphrec demo`: the whole path on a synthetic zoo, with nothing to install or download.

A Python API function: it does the work and reports each step to a callback; the command
line (`graphrec demo`) prints those steps, tables included. It does not import the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .api import open as open_graph
from .config import default_home
from .synth import generate_zoo

#: A step of the demo: a sentence, and for the recommendation steps the ranked rows.
Report = Callable[[str, list[dict[str, Any]] | None], None]


def run_demo(report: Report | None = None, home: Path | None = None, *, models: int = 30,
             datasets: int = 300, density: float = 0.3, seed: int = 0,
             epochs: int = 300) -> dict:
    """Generate a zoo, ingest it, train the default predictor (`auto`), predict, and
    recommend (cold start too), in a database of its own under `home`/demo (default:
    GRAPHREC_HOME). `report(text, rows)` hears each step as it ends; `rows` are the ranked
    models of a recommendation step, else None. Returns the zoo and database paths, the
    predictor's id and every recommendation."""
    from .predict import workflow
    from .predict.cold import recommend_new

    def step(text: str, rows: list[dict[str, Any]] | None = None) -> None:
        if report is not None:
            report(text, rows)

    base = (home or default_home()) / "demo"
    zoo = generate_zoo(models, datasets, density, seed, base / "zoo")
    step(f"1. generated a synthetic zoo: {zoo.models} models, {zoo.datasets} datasets, "
         f"{zoo.records} fine-tuning records in {zoo.out_dir}")
    with open_graph(str(base / "db")) as g:
        summary = g.ingest(zoo.files["records"], models=zoo.files["models"],
                           datasets=zoo.files["datasets"])
        step(f"2. ingested into {g.location}: {summary.transfers.created} new and "
             f"{summary.transfers.unchanged} unchanged observed edges "
             f"in {summary.seconds:.2f} s")
        record = workflow.train(g.store, epochs=epochs, seed=seed)  # the default predictor
        step(f"3. trained the default predictor, {record['model']} ({record['id']}), on "
             f"{record['trained_on_edges']} observed edges in {record['fit_seconds']:.1f} s"
             + "".join(f"\n   {line}" for line in workflow.describe_selection(record)))
        predicted = workflow.predict(g.store)
        step(f"4. wrote {predicted['predicted']} predicted edges for the pairs never measured")
        names = [r["dataset"] for r in g.query("coverage", k=3)]
        answers = {}
        for name in names:
            rows = workflow.recommend(g.store, name, k=5)
            answers[name] = rows
            step(f"5. recommended for {name} (least measured):", rows)
        cold = {"domain": "sketch", "num_classes": 8, "samples_per_class": 30,
                "train_size": 240, "labels": ["cat", "dog", "airplane", "apple", "bear",
                                              "bicycle", "bird", "book"]}
        name = "my_new_sketch_dataset"
        rows = recommend_new(g.store, name, cold, k=5)  # scored in memory, not stored
        answers[name] = rows
        step(f"6. cold start: {name}, a dataset with no history, from its metadata alone:",
             rows)
    step("\nNext: graphrec --db " + str(base / "db") + " query --list")
    return {"zoo": str(zoo.out_dir), "database": str(base / "db"), "predictor": record["id"],
            "recommendations": answers}
