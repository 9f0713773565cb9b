"""LogME: how well a Bayesian linear model on the features explains the labels.

You, Liu, Wang and Long, "LogME: Practical Assessment of Pre-trained Models for Transfer
Learning", ICML 2021.

Per class c the target is the indicator column y = [label == c]. With prior w ~ N(0, α⁻¹ I)
and noise precision β, the log evidence of y given the features F (N, D) is

    L(α, β) = N/2 log β + D/2 log α − N/2 log 2π − β/2 ||F m − y||² − α/2 ||m||² − 1/2 log|A|
    A = α I_D + β FᵀF,   m = β A⁻¹ Fᵀ y.

α and β maximise L by MacKay's fixed point, with σ_i the eigenvalues of FᵀF:

    γ = Σ_i βσ_i / (α + βσ_i),   α ← γ / ||m||²,   β ← (N − γ) / ||F m − y||².

LogME is the mean over classes of L / N at the fixed point. Why it is fast: one
eigendecomposition of the smaller Gram matrix (FᵀF or FFᵀ) serves every class and every
iteration; the C targets are projected once onto the left singular vectors, after which
each iteration is elementwise over (rank, C) arrays, all classes at once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .validate import Labels, check_features, check_labels, class_sums

MAX_ITER = 200
RTOL = 1e-8
SETTLED = 1e-12  # γ or N − γ below this: the evidence no longer depends on α or β
# α or β may run off to 0 or ∞ on degenerate input (a class orthogonal to every feature):
# clamped there, the evidence stays finite and the iteration still stops.
_LO, _HI = 1e-300, 1e300

__all__ = ["LogMEResult", "Projection", "logme", "logme_checked", "logme_evidence",
           "project_targets"]


@dataclass(frozen=True, eq=False)
class LogMEResult:
    """The score and what produced it, per class (in the order of `classes`)."""

    score: float  # mean of `evidence`
    evidence: np.ndarray  # (C,) log evidence / N at (alpha, beta)
    alpha: np.ndarray  # (C,) prior precision
    beta: np.ndarray  # (C,) noise precision
    iterations: int  # fixed-point updates run (all classes together)
    classes: np.ndarray  # (C,) class ids, sorted as np.unique sorts them


class Projection(NamedTuple):
    """Features reduced to what every class's evidence needs."""

    sigma: np.ndarray  # (r,) nonzero eigenvalues of FᵀF
    x: np.ndarray  # (r, C) class indicator columns in F's left singular basis: Uᵀ Y
    outside: np.ndarray  # (C,) ||y_c||² − ||x_c||², the part of y_c outside F's column space


def project_targets(f: np.ndarray, labels: Labels) -> Projection:
    """One eigendecomposition of the smaller Gram matrix, and the C targets projected on it.

    FᵀF (D x D) when N >= D, where x = Vᵀ (Fᵀ Y) / √σ; FFᵀ (N x N) otherwise, where the
    eigenvectors are U itself and the dropped ones give `outside` without cancellation
    (it is exactly 0 when F has full row rank). Float64 `eigh`; eigenvalues at or below
    max(σ) · D · eps are rounding noise and count as zero.
    """
    n, d = f.shape
    gram = f.T @ f if n >= d else f @ f.T  # `a.T @ a` runs as one BLAS syrk
    sigma, vecs = np.linalg.eigh(gram)
    del gram
    sigma = np.clip(sigma, 0.0, None)
    keep = sigma > sigma[-1] * d * np.finfo(np.float64).eps
    if n >= d:
        fty = class_sums(f, labels.codes, labels.n_classes).T  # (D, C) = Fᵀ Y
        x = (vecs[:, keep].T @ fty) / np.sqrt(sigma[keep])[:, None]
        outside = np.maximum(labels.counts - (x**2).sum(axis=0), 0.0)
    else:
        uty = class_sums(vecs, labels.codes, labels.n_classes).T  # (N, C) = Uᵀ Y, all of U
        x, outside = uty[keep], (uty[~keep] ** 2).sum(axis=0)
    return Projection(sigma[keep], x, outside)


def _terms(alpha: np.ndarray, beta: np.ndarray, p: Projection, n: int
           ) -> tuple[np.ndarray, ...]:
    """γ, N − γ, ||m||², ||Fm − y||² and Σ_i log(α + βσ_i) per class, over (r, C) at once."""
    bs = beta * p.sigma[:, None]
    denom = alpha + bs
    gamma = (bs / denom).sum(axis=0)
    # N − γ summed from its own terms: no cancellation when β is large and r = N
    noise_dof = (n - len(p.sigma)) + (alpha / denom).sum(axis=0)
    m2 = ((beta * p.x / denom) ** 2 * p.sigma[:, None]).sum(axis=0)
    resid = p.outside + ((alpha * p.x / denom) ** 2).sum(axis=0)
    return gamma, noise_dof, m2, resid, np.log(denom).sum(axis=0)


def logme_evidence(features: ArrayLike, labels: ArrayLike) -> LogMEResult:
    """LogME with its per-class evidence and fixed point (see the module docstring).

    Differences from the reference code, on purpose: log|A| counts the D − r zero
    eigenvalues of FᵀF as (D − r) log α (the original drops them when D > N, which favours
    wide features); and the evidence is evaluated at the returned α, β, after the last
    update. Features are not standardised, like the original: scores depend on their scale.

    Where the supremum lies at α = ∞ (the features do not explain a class) or β = ∞ (they
    interpolate it, possible when D >= N), α or β is followed until γ, or N − γ, drops
    below 1e-12, where the evidence no longer moves; it is returned large but finite.
    A class still moving after 200 updates raises a RuntimeWarning.
    """
    f = check_features(features)
    return logme_checked(f, check_labels(labels, len(f)))


def logme(features: ArrayLike, labels: ArrayLike) -> float:
    """LogME (You et al., ICML 2021), higher is better: mean over classes c of
    max_{α,β} log p(y_c | F, α, β) / N, the evidence of a Bayesian linear model."""
    return logme_evidence(features, labels).score


def logme_checked(f: np.ndarray, labels: Labels) -> LogMEResult:
    """`logme_evidence` of inputs `validate` already checked (how `compute` runs it)."""
    n, d = f.shape
    p = project_targets(f, labels)
    c = labels.n_classes
    alpha, beta = np.ones(c), np.ones(c)
    converged, iterations = False, 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        while not converged and iterations < MAX_ITER:
            gamma, noise_dof, m2, resid, _ = _terms(alpha, beta, p, n)
            new_a, new_b = gamma / m2, noise_dof / resid
            # 0/0: α (or β) does not affect the evidence; keep it. x/0: clamp.
            new_a = np.clip(np.where(np.isnan(new_a), alpha, new_a), _LO, _HI)
            new_b = np.clip(np.where(np.isnan(new_b), beta, new_b), _LO, _HI)
            # The supremum may lie at α = ∞ (the features do not explain the class) or at
            # β = ∞ (they interpolate it, D >= N). The iterate then runs off geometrically
            # while the evidence settles: stop following α once γ, or β once N − γ, is ~0.
            step_a = np.where(gamma <= SETTLED, 0.0, np.abs(new_a - alpha) / alpha)
            step_b = np.where(noise_dof <= SETTLED, 0.0, np.abs(new_b - beta) / beta)
            step = np.maximum(step_a, step_b)
            converged = bool((step <= RTOL).all())
            alpha, beta = new_a, new_b
            iterations += 1
        _, _, m2, resid, logdet = _terms(alpha, beta, p, n)
    if not converged:
        warnings.warn(f"LogME: the fixed-point iteration had not converged after {MAX_ITER} "
                      f"steps for {int((step > RTOL).sum())} of {c} classes (largest relative "
                      f"step {step.max():.2g}); their evidence is at the last iterate",
                      RuntimeWarning, stacklevel=3)
    logdet = logdet + (d - len(p.sigma)) * np.log(alpha)
    evidence = (n * np.log(beta) + d * np.log(alpha) - n * np.log(2 * np.pi)
                - beta * resid - alpha * m2 - logdet) / (2 * n)
    return LogMEResult(score=float(evidence.mean()), evidence=evidence, alpha=alpha,
                       beta=beta, iterations=iterations, classes=labels.classes)
