"""A benchmark's result for people (a Markdown table, a plot) and for scripts (CSV, JSON)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .metrics import BUCKETS
from .paper import AUTHORS_MEASURED, PAPER_TABLE

if TYPE_CHECKING:
    from .runner import BenchmarkResult

__all__ = ["COLUMNS", "RESULT_FILES", "SUITE_FILES", "check_out", "markdown", "plot",
           "write"]

#: Table columns: metric key -> header. Paper metrics first, then the strict ones.
COLUMNS: dict[str, str] = {
    "avg": "Avg", **{name: name.capitalize() if name == "cold" else name
                     for name, _, _ in BUCKETS},
    "spearman_unknown": "ρ unknown", "top1_hit": "top-1 hit",
    "top1_regret": "top-1 regret (pts)", "ndcg3": "NDCG@3",
}


def _cell(mean: float, std: float | None, digits: int = 3) -> str:
    if mean is None or not math.isfinite(mean):
        return ""
    text = f"{mean:.{digits}f}"
    if std is not None and math.isfinite(std):
        text += f" ± {std:.{digits}f}"
    return text


def markdown(result: BenchmarkResult) -> str:
    """The table: one row per method, mean ± std over repetitions; on the paper's matrix,
    the paper's Table 2 row (and the authors' script's published figures) under ours."""
    cfg = result.config
    head = ["method", "features", *COLUMNS.values(), "time (s)", "peak RSS (MiB)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    paper = result.paper_shape
    for m in result.methods:
        summary = m.summary()
        cells = [_cell(*summary.get(k, (math.nan, None))) for k in COLUMNS]
        mem = "" if m.peak_rss_mib is None else f"{m.peak_rss_mib:.0f}"
        lines.append(f"| **{m.label}** | {m.features} | " + " | ".join(cells)
                     + f" | {m.seconds:.1f} | {mem} |")
        refs = []
        if paper and m.key in PAPER_TABLE:
            refs.append(PAPER_TABLE[m.key])
        if paper and m.key == "scg4trf-given":
            refs += [PAPER_TABLE["scg4trf"], AUTHORS_MEASURED]
        if paper and m.key == "g4trf-given":
            refs.append(PAPER_TABLE["g4trf"])
        for label, figures in refs:
            cells = [_cell(*figures[k], digits=2 if label.endswith("(paper)") else 3)
                     if k in figures else "" for k in COLUMNS]
            lines.append(f"| *{label}* | | " + " | ".join(cells) + " | | |")
    notes = [f"- **{m.label}** ({m.key}): {m.note}" for m in result.methods if m.note]
    caption = (f"{cfg['shape'][0]} models x {cfg['shape'][1]} datasets, {cfg['seeds']} "
               f"repetitions, {cfg['masks']} masks; GATs: Avg after {cfg['avg_epochs']} "
               f"epochs, the rest after {cfg['epochs']}. Avg: Pearson of each completed column; "
               "buckets: Spearman of completed columns grouped by unknown share (Cold = no "
               "known entry); ρ unknown, top-1 and NDCG@3 score unknown entries only.")
    if not paper:
        caption += " The paper's figures are for its 10 x 270 matrix and are not shown."
    return "\n".join([*lines, "", caption, *(["", *notes] if notes else [])])


#: The files `write` puts in `--out`; `graphrec benchmark --suite` adds SUITE_FILES.
RESULT_FILES = ("results.json", "results.csv", "repetitions.csv", "table.md", "buckets.png",
                "holdout.png")
SUITE_FILES = ("suite.md", "suite.json", "summary.csv")


def check_out(out: Path, files: Iterable[str] = RESULT_FILES) -> None:
    """Refuse an `--out` the results could not be written to, before any work is done (a
    run takes minutes to hours): a file where the folder goes, a file among the folders
    above it, a place that cannot be written, or a folder where a results file goes."""
    import os
    import tempfile

    from ..errors import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: this is a file; name a folder (it is created if "
                         "needed)")
    base = out
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise UsageError(f"--out {out}: {base} is a file, so no folder can be made under "
                         "it; name a folder elsewhere")
    try:  # the only sure test that the folder can be made and written: try it
        os.rmdir(tempfile.mkdtemp(prefix=".graphrec-out-check-", dir=base))
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write in {base} ({exc.strerror}); name a "
                         "folder you can write to") from None
    for name in files:
        target = out / name
        if target.exists() and not target.is_file():
            raise UsageError(f"--out {out}: {target} is a folder where the results file "
                             f"{name} goes; move it away or name another --out folder")


def write(result: BenchmarkResult, out: Path, title: str = "") -> dict[str, Path]:
    """`results.json` (everything), `results.csv` (one row per method), `repetitions.csv`
    (one row per method and repetition), `table.md` and a plot (`buckets.png` for the
    paper's protocol, `holdout.png` for the held-out one) in `out`."""
    check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    holdout = result.config.get("protocol") == "holdout"
    files = {"json": out / "results.json", "csv": out / "results.csv",
             "repetitions": out / "repetitions.csv", "markdown": out / "table.md",
             "plot": out / ("holdout.png" if holdout else "buckets.png")}
    files["json"].write_text(json.dumps(result.as_dict(), indent=2, default=_json_default))
    columns = (list(dict.fromkeys(k for m in result.methods for r in m.repetitions for k in r))
               if holdout else list(COLUMNS))
    with files["csv"].open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["method", "label", "features", "seconds", "peak_rss_mib",
                         *(f"{k}_{s}" for k in columns for s in ("mean", "std"))])
        for m in result.methods:
            summary = m.summary()
            writer.writerow([m.key, m.label, m.features, m.seconds, m.peak_rss_mib,
                             *(v for k in columns for v in summary.get(k, (math.nan,) * 2))])
    with files["repetitions"].open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["method", "repetition", *columns])
        for m in result.methods:
            for r, rep in enumerate(m.repetitions):
                writer.writerow([m.key, r, *(rep.get(k, math.nan) for k in columns)])
    files["markdown"].write_text(result.markdown() + "\n")
    if holdout:
        from .holdout_report import holdout_plot

        holdout_plot(result, files["plot"], title)
    else:
        plot(result, files["plot"])
    return files


def _json_default(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def plot(result: BenchmarkResult, path: Path) -> Path:
    """Per-bucket Spearman of each method (mean, with the std as error bars), and Avg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buckets = [name for name, _, _ in BUCKETS]
    labels = [f"{m.label} ({m.features})" for m in result.methods]
    fig, (ax, ax_avg) = plt.subplots(1, 2, figsize=(12, 5.2),
                                     gridspec_kw={"width_ratios": [3, 1.2]})
    xs = list(range(len(buckets)))
    width = 0.8 / max(1, len(result.methods))
    colours = plt.get_cmap("tab10")
    for k, m in enumerate(result.methods):
        summary = m.summary()
        means = [summary[b][0] for b in buckets]
        stds = [0.0 if not math.isfinite(summary[b][1]) else summary[b][1] for b in buckets]
        offset = (k - (len(result.methods) - 1) / 2) * width
        ax.bar([x + offset for x in xs], means, width, yerr=stds, capsize=1.5,
               color=colours(k % 10), label=labels[k])
        avg, std = summary["avg"]
        ax_avg.barh(k, avg, xerr=0.0 if not math.isfinite(std) else std, capsize=2,
                    color=colours(k % 10))
    ax.set_xticks(xs, ["cold start" if b == "cold" else f"{b}\nknown" for b in buckets])
    ax.set_ylabel("Spearman of the completed column")
    ax.set_title("Per bucket: datasets grouped by how much of them is known", fontsize=10)
    ax.axhline(0, color="black", linewidth=0.5)
    ax_avg.set_yticks(range(len(result.methods)), labels, fontsize=7)
    ax_avg.invert_yaxis()
    ax_avg.set_xlabel("Avg (Pearson of the completed column)")
    ax_avg.set_title("Avg", fontsize=10)
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(5, len(names)), fontsize=7,
               frameon=False)
    cfg = result.config
    fig.suptitle(f"{cfg['shape'][0]} models x {cfg['shape'][1]} datasets, {cfg['seeds']} "
                 f"repetitions, {cfg['masks']} masks (mean, std as error bars)", fontsize=9)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
