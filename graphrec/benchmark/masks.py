"""Which entries of a transferability matrix a benchmark repetition treats as known.

The paper's stratified design (Chen et al., 2024, section 5): the dataset columns are cut
into ten groups whose known fractions are 0.9, 0.8, ..., 0.1, 0.0, so one run measures every
amount of history at once, cold start (the last group) included. Two draws of that design:

- `authors_mask`: the authors' script's own draw, bit for bit, so that a comparison with
  their published numbers uses their very splits (10 x 270 only, repetitions 0..9);
- `seeded_mask`: the same design for any matrix size, and for matrices with unobserved
  entries (only observed entries are ever known or scored), from a numpy seed.

A mask is a bool array (models x datasets): True = known (a training edge).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..checks import is_integer
from ..predict.graph import column_ranks

__all__ = ["PAPER_FRACTIONS", "authors_mask", "seeded_mask"]

#: Known fraction of each column group, in group order; the last group is cold start.
PAPER_FRACTIONS: tuple[float, ...] = (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0)

_AUTHORS_SETS = 10  # the script draws ten mask sets in a row and keeps set number `seed`


def authors_mask(repetition: int, num_models: int = 10, num_datasets: int = 270) -> np.ndarray:
    """The known entries of repetition `repetition` (0..9) as the authors' script draws them.

    Their draw: seed torch's global RNG with the repetition number, then draw ten mask sets
    in sequence and keep set number `repetition`. One set is `randperm(num_datasets)` (the
    column order), then for each column position in that order `randperm(num_models)[:n]`
    rows known, with n = int(num_models x fraction) for the position's group and the groups
    cut at int(num_datasets x 0.1 x g). The same float expressions are used here, so the
    sets are theirs exactly (torch's CPU `randperm` is deterministic for a given seed).
    Runs inside a forked RNG: the caller's torch RNG state is left untouched.
    """
    if not is_integer(repetition) or not 0 <= repetition < _AUTHORS_SETS:
        raise ValueError(f"the authors' draw defines repetitions 0..{_AUTHORS_SETS - 1}, got "
                         f"{repetition!r}; for more, use the seeded draw (--masks seeded)")
    if num_models < 1 or num_datasets < len(PAPER_FRACTIONS):
        raise ValueError(f"the paper's design needs at least 1 model and "
                         f"{len(PAPER_FRACTIONS)} datasets, got {num_models} x {num_datasets}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(repetition))
        for _ in range(int(repetition) + 1):
            mask = _authors_set(num_models, num_datasets)
    return mask


def _authors_set(num_rows: int, num_cols: int) -> np.ndarray:
    order = torch.randperm(num_cols)
    mask = torch.zeros(num_rows, num_cols, dtype=torch.bool)
    for g, fraction in enumerate(PAPER_FRACTIONS):
        known = int(num_rows * fraction)
        for position in range(int(num_cols * 0.1 * g), int(num_cols * 0.1 * (g + 1))):
            mask[torch.randperm(num_rows)[:known], order[position]] = True
    return mask.numpy()


def seeded_mask(seed: int, observed: np.ndarray,
                fractions: Sequence[float] = PAPER_FRACTIONS) -> np.ndarray:
    """The stratified design for any matrix: `observed` (bool, models x datasets) says which
    entries exist; the result marks the known ones among them.

    Columns are shuffled and cut into `len(fractions)` groups of near-equal size (the column
    at shuffled position p is in group floor(p G / D), for D columns and G groups); in a
    column of group g, int(observed entries x fractions[g]) of its observed entries are
    known, chosen uniformly. Vectorised: one random key per entry, ranked within its column.
    """
    observed = np.asarray(observed, dtype=bool)
    if observed.ndim != 2:
        raise ValueError(f"observed must be a 2-D bool matrix, got shape {observed.shape}")
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.ndim != 1 or len(fractions) == 0 or np.any((fractions < 0) | (fractions > 1)):
        raise ValueError(f"fractions must be a non-empty list of numbers in [0, 1], "
                         f"got {fractions.tolist()}")
    num_cols = observed.shape[1]
    if num_cols < len(fractions):
        raise ValueError(f"{num_cols} datasets cannot fill {len(fractions)} column groups")
    rng = np.random.default_rng(seed)
    position = np.empty(num_cols, dtype=np.int64)
    position[rng.permutation(num_cols)] = np.arange(num_cols)
    group = position * len(fractions) // num_cols
    quota = (observed.sum(axis=0) * fractions[group]).astype(np.int64)
    rank = column_ranks(observed, rng)
    return observed & (rank < quota[None, :])
