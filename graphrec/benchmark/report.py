"""A benchmark's result as files: for people (a Markdown table, a plot) and for scripts (CSV,
JSON). The Markdown itself is `results.paper_markdown` / `results.holdout_markdown`."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path

from .metrics import BUCKETS
from .results import COLUMNS, BenchmarkResult
from .results import paper_markdown as markdown

__all__ = ["COLUMNS", "RESULT_FILES", "SUITE_FILES", "check_out", "markdown", "plot",
           "write"]

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
