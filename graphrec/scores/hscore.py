"""H-Score: how much of the features' variance lies between the classes.

Bao, Li, Huang, Zhang, Zheng, Zamir and Guibas, "An Information-Theoretic Approach to
Transferability in Task Transfer Learning", ICIP 2019.

    H(f) = tr(cov(f)⁻¹ cov(E[f | y]))

where E[f | y] replaces each sample's features by its class mean, so cov(E[f | y]) is the
between-class covariance weighted by class frequency. Why it measures transferability: by
the paper's local (maximal-correlation) analysis, features with a higher H-Score give a
lower asymptotic error to a classifier trained on them. 0 <= H <= min(D, C − 1); it is
invariant to any invertible affine transform of the features (f ↦ fA + b), so unlike
LogME it ignores feature scale, and to permutations of samples or classes.

Computed stably without forming an inverse: with F the centred features and U its left
singular vectors (from one `eigh` of the smaller Gram matrix, pseudo-inverse cutoff
max_eig · D · eps), H = Σ_c ||Uᵀ y_c||² / n_c, y_c the indicator column of class c.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .logme import project_targets
from .validate import Labels, check_features, check_labels

__all__ = ["hscore", "hscore_checked"]


def hscore(features: ArrayLike, labels: ArrayLike) -> float:
    """H-Score (Bao et al., ICIP 2019), higher is better: tr(cov(f)⁻¹ cov(E[f | y])) of
    features f (N, D) for target labels y (N,), pseudo-inverse for singular cov(f)."""
    f = check_features(features)
    return hscore_checked(f, check_labels(labels, len(f)))


def hscore_checked(f: np.ndarray, labels: Labels) -> float:
    """`hscore` of inputs `validate` already checked (how `compute` runs it)."""
    x = project_targets(f - f.mean(axis=0), labels).x
    return float(((x**2).sum(axis=0) / labels.counts).sum())
