"""`predict --workers N`: the datasets sharded across N processes that score and write.

Why processes: scoring is numpy work under the GIL and writing waits on the database, so
one process leaves a core idle; N forked workers each take chunks of datasets, score them
and write their predictions under the same version through a connection of their own (the
store takes concurrent writers: each statement holds the write lock alone). The graph and
the bound scorer are built once in the parent and reach the workers by fork, copy on
write. The version is recorded as complete by the parent only after every chunk is in, so
a failed worker leaves the previous predictions served, as a killed `predict` does.

Fork is the start method (Linux and macOS): the workers need the parent's arrays without a
copy. Each worker runs torch on one thread, since OpenMP's threads do not survive a fork.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import numpy as np

from ..store import Store, connect
from .graph import TransferGraph
from .intervals import Bounds
from .predicted_edges import score_chunk, write_predictions

__all__ = ["predict_sharded"]

_JOB: dict[str, Any] = {}  # set in the parent before the fork, read by the workers


def _start_worker() -> None:
    import torch

    torch.set_num_threads(1)
    _JOB["store"] = connect(_JOB["target"], schema=False)


def _run(chunk: np.ndarray) -> tuple[int, int]:
    job = _JOB
    pairs, scores = score_chunk(job["graph"], job["score"], chunk, job["top_k"])
    if len(pairs):
        write_predictions(job["store"], job["graph"], pairs, scores, job["predictor"],
                          job["version"], job["bounds"])
    return len(chunk), len(pairs)


def predict_sharded(store: Store, graph: TransferGraph,
                    score: Callable[[np.ndarray], np.ndarray], chunks: list[np.ndarray],
                    top_k: int | None, predictor_id: str, version: str, workers: int,
                    progress: bool, bounds: Bounds | None = None) -> int:
    """Score and write `chunks` (arrays of dataset indices) with `workers` processes;
    returns how many predicted edges were written."""
    from tqdm import tqdm

    _JOB.update(target=store.target, graph=graph, score=score, top_k=top_k,
                predictor=predictor_id, version=version, bounds=bounds)
    written = 0
    bar = tqdm(total=int(sum(len(c) for c in chunks)), unit="dataset", desc="predict",
               disable=not progress, leave=False)
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(workers, len(chunks)), initializer=_start_worker) as pool:
            for datasets, edges in pool.imap_unordered(_run, chunks):
                written += edges
                bar.update(datasets)
    finally:
        bar.close()
        _JOB.clear()
    return written
