"""Run the paper's protocol: the same masks for every method, metrics per repetition.

    from graphrec.benchmark import run_benchmark, matrix_graph
    result = run_benchmark(matrix_graph(graphrec.load(DIR, loader="domainnet")), seeds=10)
    print(result.markdown())
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..loaders.zoodata import ZooData
from ..predict.graph import TransferGraph, renumber, renumber_scores, sample_datasets
from ..predict.intervals import calibrate
from ..predict.io import from_zoo
from .holdout import holdout_mask, holdout_metrics, interval_metrics
from .masks import authors_mask, seeded_mask
from .methods import METHODS, SCORE_METHOD, MethodSettings, default_methods, get_method
from .metrics import evaluate
from .results import BenchmarkResult, MethodResult

__all__ = [
    "PROTOCOLS",
    "PROTOCOL_DEFAULTS",
    "BenchmarkResult",
    "MethodResult",
    "matrix_graph",
    "protocol_options",
    "run_benchmark",
    "sample_datasets",
    "split_masks",
]

MASKS = ("auto", "authors", "seeded")

#: The runner keeps every method's scores for every pair of every repetition (dense, float64,
#: two snapshots): beyond this it asks for fewer datasets instead of running out of memory.
MAX_SCORE_BYTES = 2 << 30


def matrix_graph(zoo: ZooData) -> TransferGraph:
    """The zoo as a graph whose rows and columns follow the records file.

    The benchmark's masks and any feature files given by row refer to the matrix's own
    order (the authors' script pairs feature row i with matrix row i), while `from_zoo`
    lists nodes in metadata order; here models and datasets come in the order the records
    first name them, then any that only the metadata has.
    """
    graph = from_zoo(zoo)
    models = list(dict.fromkeys([*(m for m, _ in zoo.transfers), *graph.models]))
    datasets = list(dict.fromkeys([*(d for _, d in zoo.transfers), *graph.datasets]))
    mi = np.array([graph.model_index(n) for n in models])
    di = np.array([graph.dataset_index(n) for n in datasets])
    new_m = np.empty(len(mi), dtype=np.int64)
    new_m[mi] = np.arange(len(mi))
    new_d = np.empty(len(di), dtype=np.int64)
    new_d[di] = np.arange(len(di))
    _, edges = renumber(graph.edges, new_m, new_d)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    return TransferGraph(models, datasets, [graph.model_props[k] for k in mi],
                         [graph.dataset_props[k] for k in di], edges[order],
                         graph.accuracy[order], renumber_scores(graph, new_m, new_d))


def split_masks(observed: np.ndarray, seeds: int, masks: str = "auto"
                ) -> tuple[str, list[np.ndarray]]:
    """(the draw used, one known-entry mask per repetition 0..seeds-1), for a matrix whose
    observed entries are `observed` (bool, models x datasets).

    `auto` takes the authors' draw when the matrix is complete and at most 10 repetitions
    are asked for (it defines only 10), else the seeded draw of the same design.
    """
    if masks not in MASKS:
        raise ValueError(f"masks must be one of {', '.join(MASKS)}, got {masks!r}")
    complete = bool(observed.all())
    if masks == "auto":
        masks = "authors" if complete and seeds <= 10 else "seeded"
    if masks == "authors":
        if not complete:
            missing = int((~observed).sum())
            raise ValueError(f"the authors' mask draw needs a complete matrix, and this one "
                             f"has {missing} unobserved entries; use the seeded draw")
        if seeds > 10:
            raise ValueError(f"the authors' draw defines 10 repetitions, {seeds} were asked "
                             "for; use --seeds 10 or fewer, or the seeded draw")
        return masks, [authors_mask(r, *observed.shape) for r in range(seeds)]
    return masks, [seeded_mask(r, observed) for r in range(seeds)]


class _PeakRSS:
    """The process's peak resident memory while a block runs, sampled every 10 ms (Linux
    /proc; elsewhere the process's lifetime peak from `resource`)."""

    def __init__(self) -> None:
        self.peak: float | None = None
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def _read(self) -> float | None:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * self._page / 2**20
        except OSError:
            return None

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            now = self._read()
            if now is not None:
                self.peak = max(self.peak or 0.0, now)

    @contextmanager
    def watch(self) -> Iterator[_PeakRSS]:
        self.peak = self._read()
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()
            now = self._read()
            if now is not None:
                self.peak = max(self.peak or 0.0, now)
            elif self.peak is None:
                import resource

                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                self.peak = peak / 2**20 if sys.platform == "darwin" else peak / 1024


PROTOCOLS = ("paper", "holdout")
#: What a protocol runs when the caller leaves it out: the paper's 10 repetitions of 500
#: epochs; the held-out protocol's cheaper 3 of 300, a quarter of the datasets held out
#: whole and half the entries of the others.
PROTOCOL_DEFAULTS: dict[str, dict[str, float]] = {
    "paper": {"seeds": 10, "epochs": 500},
    "holdout": {"seeds": 3, "epochs": 300, "cold": 0.25, "hidden": 0.5},
}


def protocol_options(protocol: str, **given: Any) -> dict[str, Any]:
    """`given` (seeds, epochs, cold, hidden, first_seed, intervals) checked against
    `protocol`, and what is None filled with its `PROTOCOL_DEFAULTS`: a held-out setting
    with the paper's protocol is an error, not ignored. Cheap, so callers run it before
    reading any data."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if protocol == "paper":
        held_out = [k for k in ("cold", "hidden", "intervals") if given.get(k) is not None]
        held_out += ["first-seed"] if given.get("first_seed") else []
        if held_out:
            raise ValueError(f"{', '.join(held_out)}: setting(s) of the held-out protocol, "
                             "which hides datasets to measure them; add --protocol holdout "
                             "(protocol='holdout'), or drop them: the paper's protocol draws "
                             "its own masks and numbers its repetitions from 0")
    out = dict(given)
    for key, value in PROTOCOL_DEFAULTS[protocol].items():
        if out.get(key) is None:
            out[key] = value
    return out


def run_benchmark(graph: TransferGraph, methods: Sequence[str] | None = None, *,
                  protocol: str = "paper", seeds: int | None = None, masks: str = "auto",
                  epochs: int | None = None, avg_epochs: int | None = None,
                  cold: float | None = None, hidden: float | None = None,
                  first_seed: int = 0,
                  model_features: np.ndarray | None = None,
                  dataset_features: np.ndarray | None = None, device: str = "cpu",
                  progress: bool = False, source: str = "",
                  intervals: float | None = None) -> BenchmarkResult:
    """Every method on the same `seeds` masks of `graph`; what is left out (None) takes
    the protocol's default (`PROTOCOL_DEFAULTS`).

    `protocol="paper"`: the paper's stratified masks and metrics (`evaluate`). Iterative
    methods (the GATs) train `epochs` epochs and report "Avg" after `avg_epochs` (default:
    300 or `epochs` if fewer, as the paper does), everything else at the end.
    `protocol="holdout"`: `cold` of the datasets held out whole and `hidden` of the other
    datasets' entries, scored on hidden entries only (`holdout.holdout_metrics`).
    Repetition r seeds its masks and predictors with r. `model_features` /
    `dataset_features` (one row per model / dataset in the records' order) feed the
    `-given` methods. `intervals` (a coverage such as 0.8, held-out protocol only) also
    calibrates each method's intervals on each repetition's known entries, as `graphrec
    train` does, and reports `<regime>_coverage` and `<regime>_width` of the hidden ones.
    """
    chosen = protocol_options(protocol, seeds=seeds, epochs=epochs, cold=cold, hidden=hidden,
                              first_seed=first_seed, intervals=intervals)
    seeds, epochs, cold, hidden = (chosen[k] for k in ("seeds", "epochs", "cold", "hidden"))
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    avg_epochs = min(300, epochs) if avg_epochs is None else avg_epochs
    if not 1 <= avg_epochs <= epochs:
        raise ValueError(f"avg_epochs must lie in 1..epochs ({epochs}), got {avg_epochs}")
    given = model_features is not None and dataset_features is not None
    if (model_features is None) != (dataset_features is None):
        raise ValueError("give both feature files (models and datasets), or neither")
    if given:
        for what, arr, n in (("model", model_features, graph.num_models),
                             ("dataset", dataset_features, graph.num_datasets)):
            if arr.ndim != 2 or len(arr) != n:
                raise ValueError(f"the {what} feature file has shape {arr.shape}, but the "
                                 f"matrix has {n} {what}s: give one row per {what}, in the "
                                 "records' order")
    keys = (list(dict.fromkeys(methods)) if methods
            else default_methods(given, bool(graph.scores), protocol, sorted(graph.scores)))
    unknown = [k for k in keys if not _known_method(k)]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(METHODS)}, or {SCORE_METHOD}<metric> for one proxy "
                         "score alone")
    if not given and any(get_method(k).needs_given_features for k in keys):
        raise ValueError("the -given methods need --model-features and --dataset-features")
    if not graph.scores and any(get_method(k).needs_scores for k in keys):
        wanting = ", ".join(k for k in keys if get_method(k).needs_scores)
        raise ValueError(f"{wanting} read proxy scores, and this matrix has none: add a "
                         "score matrix (--scores FILE --metric NAME) or use a graph with "
                         "SCORED edges (graphrec score)")
    missing = [k for k in keys if k.startswith(SCORE_METHOD)
               and k[len(SCORE_METHOD):] not in graph.scores]
    if missing:
        raise ValueError(f"{', '.join(missing)}: the matrix has no such score (it has "
                         f"{', '.join(sorted(graph.scores)) or 'none'})")
    if len(graph.edges) == 0:
        raise ValueError("the matrix has no observed entries")
    needed = 2 * 8 * seeds * graph.num_models * graph.num_datasets
    if needed > MAX_SCORE_BYTES:
        fits = max(1, MAX_SCORE_BYTES // (2 * 8 * seeds * max(1, graph.num_models)))
        raise ValueError(f"the benchmark keeps every score of every repetition: "
                         f"{graph.num_models} models x {graph.num_datasets} datasets x {seeds} "
                         f"repetitions would need {needed / 2**30:.1f} GiB; benchmark a sample "
                         f"of the datasets (--max-datasets {fits}) or use fewer --seeds")
    truth = graph.matrix()
    observed = np.isfinite(truth)
    if protocol == "paper":
        draw, known = split_masks(observed, seeds, masks)
        colds = [np.zeros(graph.num_datasets, dtype=bool)] * seeds
    else:
        if masks not in ("auto", "seeded"):
            raise ValueError("the held-out protocol draws its own seeded masks; "
                             f"--masks {masks} applies to the paper's protocol")
        draw = "seeded"
        drawn = [holdout_mask(first_seed + r, observed, cold, hidden) for r in range(seeds)]
        known, colds = [k for k, _ in drawn], [c for _, c in drawn]
    splits = [graph.with_edges(k[graph.edges[:, 0], graph.edges[:, 1]]) for k in known]
    empty = [r for r, s in enumerate(splits) if len(s.edges) == 0]
    if empty:
        raise ValueError(f"repetition {empty[0]} has no known entry to learn from: the matrix "
                         "is too sparse for this design")
    settings = MethodSettings(epochs=epochs, device=device, model_features=model_features,
                              dataset_features=dataset_features)
    coverage = {}  # the pairs each proxy score covers: the held-out protocol's subsets
    for metric, (pairs, _) in (graph.scores.items() if protocol == "holdout" else ()):
        cover = np.zeros(truth.shape, dtype=bool)
        cover[pairs[:, 0], pairs[:, 1]] = True
        coverage[metric] = cover
    import torch

    config: dict[str, Any] = {
        "protocol": protocol, "source": source, "masks": draw, "seeds": seeds,
        "epochs": epochs, "avg_epochs": avg_epochs,
        "shape": [graph.num_models, graph.num_datasets],
        "complete": bool(observed.all()), "observed": int(observed.sum()), "methods": keys,
        "scores": sorted(graph.scores),
        "threads": torch.get_num_threads(), "python": platform.python_version(),
        "torch": torch.__version__, "machine": platform.machine(),
    }
    if protocol == "holdout":
        config.update(cold=cold, hidden=hidden, first_seed=first_seed, intervals=intervals,
                      cold_datasets=[int(c.sum()) for c in colds])
    result = BenchmarkResult(config=config)
    for key in keys:
        method = get_method(key)
        predictor = method.make(settings)
        snapshots = ([avg_epochs, epochs] if method.iterative and protocol == "paper"
                     else None)
        watch = _PeakRSS()
        with watch.watch():
            start = time.perf_counter()
            scores = predictor.fit_predict_many(splits, seeds=[first_seed + r
                                                               for r in range(seeds)],
                                                snapshots=snapshots, progress=progress)
            seconds = time.perf_counter() - start
        if protocol == "paper":
            reps = [evaluate(truth, known[r], scores[0, r], scores[-1, r])
                    for r in range(seeds)]
        else:
            reps = [holdout_metrics(truth, known[r], colds[r], scores[-1, r], coverage)
                    for r in range(seeds)]
            if intervals is not None:
                for r in range(seeds):
                    low, high = calibrate(predictor, splits[r], coverage=intervals,
                                          seed=first_seed + r).bounds(
                        scores[-1, r], np.broadcast_to(known[r].sum(axis=0)[None, :],
                                                       truth.shape))
                    reps[r].update(interval_metrics(truth, known[r], colds[r], low, high))
        result.methods.append(MethodResult(key, method.label, method.features, method.note,
                                           reps, round(seconds, 3),
                                           None if watch.peak is None else round(watch.peak, 1)))
        if progress:
            print(f"{key}: {seconds:.1f} s", file=sys.stderr)
    return result


def _known_method(key: str) -> bool:
    try:
        get_method(key)
    except KeyError:
        return False
    return True
