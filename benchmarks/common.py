"""What the benchmark scripts share: where the paper's data is, the zoo size options, output."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOMAINNET = Path(os.environ.get("GRAPHREC_DOMAINNET", REPO.parent / "shared/data/domainnet"))
ZOOS = Path(os.environ.get("GRAPHREC_ZOOS", REPO.parent / "shared/data/zoos"))


def real_zoos(max_datasets: int, only: str | None = None) -> list[tuple[str, object]]:
    """(name, TransferGraph) of DomainNet and every zoo under ZOOS that is present, larger
    ones cut to a seeded sample of `max_datasets` datasets; `only` ("a,b"): the zoos whose
    names contain one of these."""
    from graphrec.benchmark.inputs import load_matrix
    from graphrec.benchmark.suite import find_zoos
    from graphrec.predict.graph import sample_datasets

    out = []
    for root in (DOMAINNET, ZOOS):
        if root.is_dir():
            for name, folder, loader in find_zoos(root):
                if only and not any(part in name for part in only.split(",")):
                    continue
                graph, _ = load_matrix(folder, loader)
                out.append((name, sample_datasets(graph, max_datasets)))
    return out


def add_zoo_arguments(parser: argparse.ArgumentParser) -> None:
    """--only, the synthetic zoo's size, and --json."""
    parser.add_argument("--only", choices=["paper", "synth"], help="run one case")
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--density", type=float, default=0.01)
    parser.add_argument("--json", type=Path, help="also write the results here")


def emit(results: list[dict], json_path: Path | None) -> None:
    """A table on stdout, and the same rows as JSON when asked."""
    from graphrec.cli import format_table

    print(format_table(results))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2))
