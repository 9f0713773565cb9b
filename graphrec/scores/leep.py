"""LEEP: how well the source model's own predictions, re-mapped, predict the target labels.

Nguyen, Hassner, Seeger and Archambeau, "LEEP: A New Measure to Evaluate Transferability
of Learned Representations", ICML 2020.

With θ (N, Z) the source model's softmax outputs on the target samples and y their labels,
the empirical joint of target class y and source class z is

    P(y, z) = 1/N Σ_i θ_iz [y_i = y],   P(y | z) = P(y, z) / P(z)   (0 where P(z) = 0),

and LEEP = 1/N Σ_i log Σ_z P(y_i | z) θ_iz: the average log-likelihood of the "expected
empirical predictor", which classifies by passing the source prediction through P(y | z).
Why it needs no training: only one forward pass of the source model is required.
LEEP <= 0; relabelling (permuting) the source classes leaves it unchanged.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .validate import Labels, check_labels, check_probs, class_sums

__all__ = ["leep", "leep_checked"]


def leep(source_probs: ArrayLike, labels: ArrayLike) -> float:
    """LEEP (Nguyen et al., ICML 2020), higher is better, <= 0: of source softmax outputs
    θ (N, Z) for target labels y (N,), 1/N Σ_i log Σ_z P(y_i | z) θ_iz."""
    theta = check_probs(source_probs)
    return leep_checked(theta, check_labels(labels, len(theta), n_name="source_probs"))


def leep_checked(theta: np.ndarray, labels: Labels) -> float:
    """`leep` of inputs `validate` already checked (how `compute` runs it)."""
    n = len(theta)
    joint = class_sums(theta, labels.codes, labels.n_classes) / n  # (C, Z)
    pz = joint.sum(axis=0)
    cond = np.divide(joint, pz, out=np.zeros_like(joint), where=pz > 0)  # P(y | z)
    # Σ_z P(y_i | z) θ_iz for every sample's own class, without an (N, Z) gather.
    eep = np.take_along_axis(theta @ cond.T, labels.codes[:, None], axis=1)[:, 0]
    return float(np.log(np.maximum(eep, np.finfo(np.float64).tiny)).mean())
