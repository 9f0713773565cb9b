"""Every zoo under a folder, one command: `graphrec benchmark --suite DIR`.

A default predictor earns its place on many zoos, not on the one it was tuned on. The suite
finds each zoo under DIR (a folder any loader reads: a zoo folder with records.csv, or a
built-in loader's files such as DomainNet's), runs the held-out protocol on each, and, for
DomainNet, the paper's protocol too; then it says, per zoo and regime, how far the default
is from the best other method on the same pairs, and how often each method wins.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..predict.graph import TransferGraph
from .holdout import REGIMES
from .inputs import detect_loader, given_features, load_matrix
from .methods import SCORE_METHOD, get_method
from .results import LOWER_IS_BETTER, BenchmarkResult, compare_default, subset_suffix
from .runner import run_benchmark

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SuiteResult", "find_zoos", "run_suite"]

#: The methods the paper's protocol runs inside a suite: the reference and the defaults.
PAPER_METHODS = ("scg4trf-given", "hla", "auto")


def find_zoos(root: Path, depth: int = 2) -> list[tuple[str, Path, str]]:
    """(name, folder, loader) of every folder under `root` (itself included, `depth`
    levels down) that one loader reads, in name order."""
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"--suite {root}: " + ("not a folder" if root.exists()
                                                else "no such folder"))
    found = []
    frontier = [root]
    for _ in range(depth + 1):
        nxt = []
        for folder in frontier:
            try:
                loader = detect_loader(folder)
            except UsageError:
                nxt += sorted(p for p in folder.iterdir() if p.is_dir()
                              and not p.name.startswith("."))
                continue
            found.append((folder.name, folder, loader))
        frontier = nxt
    if not found:
        raise UsageError(f"--suite {root}: no zoo found (a folder with records.csv, or one "
                         "a built-in loader reads, such as DomainNet's files)")
    return sorted(found)


@dataclass
class SuiteResult:
    config: dict[str, Any]
    zoos: dict[str, BenchmarkResult] = field(default_factory=dict)
    paper: dict[str, BenchmarkResult] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> list[dict[str, Any]]:
        """The default against the best other method, per zoo, regime and metric."""
        return [{"zoo": name, **row} for name, result in self.zoos.items()
                for row in compare_default(result, self.config["default"])]

    def wins(self) -> dict[str, int]:
        """How many (zoo, regime, metric) cells each method is best in, on its pairs."""
        counts: dict[str, int] = {}
        for result in self.zoos.values():
            summaries = {m.key: m.summary() for m in result.methods}
            for regime in REGIMES:
                for metric in ("wtau", "regret"):
                    values = {k: s.get(f"{regime}_{metric}{subset_suffix(k)}", (math.nan,))[0]
                              for k, s in summaries.items()}
                    values = {k: v for k, v in values.items() if math.isfinite(v)}
                    if not values:
                        continue
                    pick = min if metric in LOWER_IS_BETTER else max
                    best = pick(values.values())
                    for k, v in values.items():
                        if v == best:
                            counts[k] = counts.get(k, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    def markdown(self) -> str:
        parts = []
        for name, result in self.zoos.items():
            parts += [f"## {name}: held-out datasets", "", result.markdown(), ""]
        for name, result in self.paper.items():
            parts += [f"## {name}: the paper's protocol", "", result.markdown(), ""]
        d = self.config["default"]
        parts += [f"## Summary: `{d}` against the best other method on the same pairs", "",
                  "| zoo | regime | metric | default | best other | gap |",
                  "|---|---|---|---|---|---|"]
        for row in self.summary():
            parts.append(f"| {row['zoo']} | {row['regime']} | {row['metric']} | "
                         f"{row['default']:.3f} | {row['best']} {row['best_value']:.3f} | "
                         f"{row['gap']:+.3f} |")
        parts += ["", "Wins (zoo x regime x metric cells where a method is best, on its "
                      "pairs; ties count for each): " + ", ".join(
                          f"{k} {v}" for k, v in self.wins().items()),
                  "", f"{len(self.zoos)} zoos in {self.seconds:.0f} s."]
        return "\n".join(parts)

    def to_frame(self) -> pd.DataFrame:
        """Every zoo's `BenchmarkResult.to_frame()`, with a `zoo` column (the paper's
        protocol on DomainNet as zoo "<name> (paper)")."""
        import pandas as pd

        parts = [r.to_frame().assign(zoo=name) for name, r in self.zoos.items()]
        parts += [r.to_frame().assign(zoo=f"{name} (paper)") for name, r in self.paper.items()]
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return frame[["zoo", *[c for c in frame.columns if c != "zoo"]]] if parts else frame

    def as_dict(self) -> dict[str, Any]:
        return {"config": self.config, "seconds": self.seconds, "summary": self.summary(),
                "wins": self.wins(),
                "zoos": {k: v.as_dict() for k, v in self.zoos.items()},
                "paper": {k: v.as_dict() for k, v in self.paper.items()}}

    def write(self, out: Path) -> dict[str, Path]:
        """Per zoo a folder as `benchmark --out` writes, plus `suite.md`, `suite.json`
        and `summary.csv` at the top."""
        import csv

        from .report import SUITE_FILES, check_out, write

        check_out(out, SUITE_FILES)
        out.mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        for name, result in self.zoos.items():
            files.update({f"{name}/{k}": v for k, v in write(result, out / name, name).items()})
        for name, result in self.paper.items():
            files.update({f"{name}-paper/{k}": v
                          for k, v in write(result, out / f"{name}-paper").items()})
        files["markdown"] = out / "suite.md"
        files["markdown"].write_text(self.markdown() + "\n")
        files["json"] = out / "suite.json"
        files["json"].write_text(json.dumps(self.as_dict(), indent=2, default=str))
        files["summary"] = out / "summary.csv"
        with files["summary"].open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["zoo", "regime", "metric", "default", "best", "best_value",
                             "pairs", "gap"])
            for row in self.summary():
                writer.writerow([row[k] for k in ("zoo", "regime", "metric", "default",
                                                  "best", "best_value", "pairs", "gap")])
        return files


def _runs_on(key: str, graph: TransferGraph) -> bool:
    """Whether a method asked for by name can run on this zoo (score methods need the
    zoo's scores); the others are skipped there, not errors."""
    method = get_method(key)
    if key.startswith(SCORE_METHOD):
        return key[len(SCORE_METHOD):] in graph.scores
    return bool(graph.scores) or not method.needs_scores


def run_suite(root: Path, *, seeds: int = 10, methods: list[str] | None = None,
              epochs: int = 300, paper: bool = True, first_seed: int = 0,
              max_datasets: int | None = None, default: str = "auto",
              progress: bool = False) -> SuiteResult:
    """The held-out protocol on every zoo under `root`; the paper's protocol on DomainNet
    (`paper`). `max_datasets` samples datasets of larger zoos (seeded)."""
    start = time.perf_counter()
    zoos = find_zoos(Path(root))
    result = SuiteResult(config={"root": str(root), "seeds": seeds, "epochs": epochs,
                                 "first_seed": first_seed, "default": default,
                                 "zoos": [name for name, _, _ in zoos]})
    for name, folder, loader in zoos:
        if progress:
            print(f"{name}: held-out datasets", file=sys.stderr)
        graph, source = load_matrix(folder, loader)
        if max_datasets is not None and graph.num_datasets > max_datasets:
            from ..predict.graph import sample_datasets

            graph = sample_datasets(graph, max_datasets)
        keys = None if methods is None else [k for k in methods if _runs_on(k, graph)]
        try:
            result.zoos[name] = run_benchmark(graph, keys, protocol="holdout", seeds=seeds,
                                              epochs=epochs, first_seed=first_seed,
                                              progress=progress, source=source)
            if paper and loader == "domainnet":
                if progress:
                    print(f"{name}: the paper's protocol", file=sys.stderr)
                arrays = given_features(folder, graph)
                keys = [k for k in PAPER_METHODS if arrays or not k.endswith("-given")]
                result.paper[name] = run_benchmark(graph, keys, protocol="paper", seeds=10,
                                                   progress=progress, source=source, **arrays)
        except ValueError as exc:
            raise UsageError(f"{name} ({folder}): {exc}") from None
    result.seconds = time.perf_counter() - start
    return result
