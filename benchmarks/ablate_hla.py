"""What each part of `hla` adds on the paper's protocol: the README's ablation figures.

    python benchmarks/ablate_hla.py                     # authors' masks, 10 repetitions
    python benchmarks/ablate_hla.py --text              # also the sentence-embedding kernel

Each row is `hla` with one part switched off through its constructor options, on the same
masks: no noise weights (every dataset weighs the same), no smoothing over similar
datasets (`neighbours=0`), no per-model metadata interactions (`interaction_alpha`
so large that the interactions vanish). With `--text`, label sets compare by sentence
embeddings (the `graphrec[text]` extra).
"""

from __future__ import annotations

import argparse

from common import DOMAINNET

VARIANTS = {
    "hla (defaults)": {},
    "no noise weights": {"noise_weights": False},
    "no smoothing": {"neighbours": 0},
    "no interactions": {"interaction_alpha": 1e12},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", action="store_true", help="add the text kernel row")
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()

    import graphrec
    from graphrec.benchmark import matrix_graph, run_benchmark
    from graphrec.benchmark import methods as registry
    from graphrec.predict.registry import make_predictor

    variants = dict(VARIANTS)
    if args.text:
        variants["text kernel"] = {"text": True}
    graph = matrix_graph(graphrec.load(DOMAINNET, loader="domainnet"))
    keys = []
    for k, (label, options) in enumerate(variants.items()):
        key = f"ablation-{k}"
        registry.METHODS[key] = registry.Method(
            key, label, "d,ids,graph", lambda s, o=options: make_predictor("hla", **o))
        keys.append(key)
    result = run_benchmark(graph, keys, seeds=args.seeds)
    print("| variant | Avg | Cold | ρ unknown | top-1 regret (pts) |\n|---|---|---|---|---|")
    for m in result.methods:
        s = m.summary()
        print(f"| {m.label} | {s['avg'][0]:.3f} | {s['cold'][0]:.3f} | "
              f"{s['spearman_unknown'][0]:.3f} | {s['top1_regret'][0]:.2f} |")
    print(f"\n{graph.num_models} x {graph.num_datasets}, {result.config['masks']} masks, "
          f"{args.seeds} repetitions")


if __name__ == "__main__":
    main()
