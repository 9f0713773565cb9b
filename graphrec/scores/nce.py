"""NCE: how much the source model's hard predictions tell about the target labels.

Tran, Nguyen and Hassner, "Transferability and Hardness of Supervised Classification
Tasks", ICCV 2019.

With z_i the source model's predicted (hard) class and y_i the target label of sample i,

    NCE = −H(Y | Z) = Σ_{y,z} P(y, z) log P(y | z)

over the empirical joint P(y, z) = #{i: y_i = y, z_i = z} / N. It is 0 when the source
label determines the target label and −H(Y) (e.g. −log C for balanced classes) when the
two are independent. Why conditional entropy: it bounds the log-likelihood a classifier
built on the source labels can reach. Relabelling either side leaves it unchanged.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .validate import Labels, check_labels, check_source_labels

__all__ = ["nce", "nce_checked"]


def nce(source_labels: ArrayLike, labels: ArrayLike) -> float:
    """NCE (Tran et al., ICCV 2019), higher is better, <= 0: −H(Y | Z) of target labels
    Y (N,) given hard source labels Z (N,), Σ_{y,z} P(y, z) log P(y | z)."""
    source = check_source_labels(source_labels)
    return nce_checked(source, check_labels(labels, len(source.codes), n_name="source_labels"))


def nce_checked(source: Labels, labels: Labels) -> float:
    """`nce` of inputs `validate` already checked (how `compute` runs it)."""
    n, z = len(labels.codes), source.n_classes
    counts = np.bincount(labels.codes * z + source.codes,
                         minlength=labels.n_classes * z).reshape(labels.n_classes, z)
    joint = counts / n
    pz = joint.sum(axis=0)  # every source class occurs, so pz > 0
    nz = counts > 0
    return float((joint[nz] * np.log(joint[nz] / np.broadcast_to(pz, joint.shape)[nz])).sum())
