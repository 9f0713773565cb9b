"""Pictures where people would rather look than read: the transferability matrix and one
dataset's ranked models with their intervals (`graphrec plot`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import UsageError
from .names import clean_name
from .store import Store

__all__ = ["plot_dataset", "plot_matrix"]

MAX_MATRIX_DATASETS = 400  # more columns than a picture can show: a seeded sample


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _check_out(out: Path) -> Path:
    out = Path(out)
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name such as {out / 'a.png'}")
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise UsageError(f"--out {out}: give a .png, .svg or .pdf file name")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    return out


def _groups(values: list[Any]) -> tuple[np.ndarray, list[tuple[str, int, int]]]:
    """An order that keeps equal values together (sorted, missing last) and the
    (label, start, end) of each run."""
    keys = ["~" if v in (None, "") else str(v) for v in values]
    order = np.array(sorted(range(len(keys)), key=lambda i: (keys[i], i)), dtype=np.int64)
    runs, start = [], 0
    for pos in range(1, len(order) + 1):
        if pos == len(order) or keys[order[pos]] != keys[order[start]]:
            label = keys[order[start]]
            runs.append(("(none)" if label == "~" else label, start, pos))
            start = pos
    return order, runs


def plot_matrix(store: Store, out: Path, predictor_id: str | None = None,
                max_datasets: int = MAX_MATRIX_DATASETS) -> dict[str, Any]:
    """Models (rows, grouped by family) x datasets (columns, grouped by domain): observed
    accuracies in full colour, the current predictor's scores of the other pairs faded."""
    from .predict.graph import sample_datasets
    from .predict.versions import shown_predictor
    from .predict.workflow import load_predictor, read_graph

    out = _check_out(out)
    graph = read_graph(store)
    if len(graph.edges) == 0:
        raise UsageError("the graph has no observed edges to draw; ingest some first")
    shown = sample_datasets(graph, max_datasets)
    matrix = shown.matrix()
    predicted = np.full(matrix.shape, np.nan)
    record = shown_predictor(store, predictor_id)  # None: the observed matrix alone
    predictor = load_predictor(record) if record is not None else None
    if predictor is not None:
        predicted = predictor.predict(shown, shown.all_pairs()).reshape(matrix.shape)
        predicted[np.isfinite(matrix)] = np.nan
    rows, families = _groups([p.get("family") for p in shown.model_props])
    cols, domains = _groups([p.get("domain") for p in shown.dataset_props])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(min(18, 4 + 0.035 * len(cols)),
                                    min(14, 2.5 + 0.22 * len(rows))))
    lo = float(np.nanmin([np.nanmin(matrix), np.nanmin(predicted)
                          if np.isfinite(predicted).any() else np.nanmin(matrix)]))
    kw = {"aspect": "auto", "interpolation": "nearest", "cmap": "viridis", "vmin": lo,
          "vmax": 1.0}
    ax.imshow(predicted[np.ix_(rows, cols)], alpha=0.35, **kw)
    image = ax.imshow(matrix[np.ix_(rows, cols)], **kw)
    for _, _, end in families[:-1]:
        ax.axhline(end - 0.5, color="white", lw=1.2)
    for _, _, end in domains[:-1]:
        ax.axvline(end - 0.5, color="white", lw=1.2)
    ax.set_yticks([(a + b - 1) / 2 for _, a, b in families], [n for n, _, _ in families],
                  fontsize=8)
    ax.set_xticks([(a + b - 1) / 2 for _, a, b in domains], [n for n, _, _ in domains],
                  fontsize=8, rotation=30, ha="right")
    ax.set_xlabel(f"datasets by domain ({len(cols)}"
                  + (f" of {graph.num_datasets}, a sample" if len(cols) < graph.num_datasets
                     else "") + ")")
    ax.set_ylabel(f"models by family ({len(rows)})")
    n_obs, n_pred = int(np.isfinite(matrix).sum()), int(np.isfinite(predicted).sum())
    ax.set_title(f"Transferability: {n_obs} observed (solid), {n_pred} predicted (faded)")
    fig.colorbar(image, ax=ax, label="accuracy after fine-tuning / predicted score")
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return {"out": str(out), "models": len(rows), "datasets": len(cols), "observed": n_obs,
            "predicted": n_pred}


def plot_dataset(store: Store, dataset: str, out: Path, predictor_id: str | None = None,
                 k: int | None = None) -> dict[str, Any]:
    """One dataset's models, best first: observed accuracies as dots (with their runs'
    range), predicted scores with their intervals."""
    from .predict import workflow

    out = _check_out(out)
    dataset = clean_name(dataset, "dataset")
    rows = workflow.recommend(store, dataset, k, predictor_id)
    if not rows:
        raise UsageError(f"dataset {dataset!r} has neither observed nor predicted scores; run "
                         "graphrec train and graphrec predict")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.28 * len(rows)))
    y = np.arange(len(rows))[::-1]
    for pos, row in zip(y, rows, strict=True):
        if row["source"] == "observed":
            lo, hi = row.get("min"), row.get("max")
            if lo is not None and hi is not None and hi > lo:
                ax.plot([lo, hi], [pos, pos], color="black", lw=1)
            ax.plot(row["score"], pos, "o", color="black", ms=6)
        else:
            if row.get("low") is not None:
                ax.plot([row["low"], row["high"]], [pos, pos], color="tab:blue", lw=3,
                        alpha=0.45, solid_capstyle="butt")
            ax.plot(row["score"], pos, "D", color="tab:blue", ms=5)
    ax.set_yticks(y, [r["model"] for r in rows], fontsize=8)
    ax.set_xlabel("accuracy (observed: black dot, range of runs) / predicted score "
                  "(blue diamond, its interval)")
    ax.set_title(f"{dataset}: models ranked")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return {"out": str(out), "dataset": dataset, "models": len(rows),
            "observed": sum(r["source"] == "observed" for r in rows)}
