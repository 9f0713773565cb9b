"""Transferability scores: they rank informative inputs first, keep their invariances, match
their formulas on cases small enough to evaluate directly, and reject bad input clearly."""

from __future__ import annotations

import numpy as np
import pytest

from graphrec.errors import UsageError
from graphrec.scores import (
    METRICS,
    NEEDS_SOURCE_PROBS,
    compute,
    hscore,
    leep,
    logme,
    logme_evidence,
    nce,
)


def blobs(n: int = 300, d: int = 16, c: int = 4, spread: float = 2.0, seed: int = 0
          ) -> tuple[np.ndarray, np.ndarray]:
    """Features whose class means differ along random directions: linearly separable-ish."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    means = rng.normal(size=(c, d)) * spread
    return means[y] + rng.normal(size=(n, d)), y


def source_outputs(y: np.ndarray, z: int = 6, agree: float = 0.8, seed: int = 0
                   ) -> np.ndarray:
    """Source softmax rows whose argmax follows the target class with probability `agree`."""
    rng = np.random.default_rng(seed)
    hard = np.where(rng.random(len(y)) < agree, y % z, rng.integers(0, z, len(y)))
    logits = rng.normal(size=(len(y), z)) + 3.0 * np.eye(z)[hard]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def shuffled(y: np.ndarray, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).permutation(y)


# --- informative inputs score higher ---------------------------------------------------------

@pytest.mark.parametrize("metric", [logme, hscore])
def test_feature_metrics_prefer_separable_features(metric) -> None:
    f, y = blobs()
    assert metric(f, y) > metric(f, shuffled(y)) + 0.05


def test_leep_prefers_correlated_source_outputs() -> None:
    _, y = blobs()
    p = source_outputs(y)
    assert leep(p, y) > leep(p, shuffled(y)) + 0.1


def test_nce_prefers_correlated_source_labels() -> None:
    _, y = blobs()
    z = source_outputs(y).argmax(axis=1)
    assert nce(z, y) > nce(z, shuffled(y)) + 0.1


def test_compute_runs_every_metric_and_ranks_like_them() -> None:
    f, y = blobs()
    p = source_outputs(y)
    got = compute(f, y, p)
    assert list(got) == list(METRICS)
    assert got == pytest.approx({"logme": logme(f, y), "hscore": hscore(f, y),
                                 "leep": leep(p, y), "nce": nce(p.argmax(1), y)}, rel=1e-12)
    worse = compute(f, shuffled(y), p)
    assert all(got[m] > worse[m] for m in METRICS)
    assert sorted(NEEDS_SOURCE_PROBS) == ["leep", "nce"]


def test_compute_defaults_to_the_metrics_its_inputs_allow() -> None:
    f, y = blobs()
    assert list(compute(features=f, labels=y)) == ["logme", "hscore"]
    assert list(compute(labels=y, source_probs=source_outputs(y))) == ["leep", "nce"]
    assert list(compute(f, y, metrics="hscore")) == ["hscore"]
    assert list(compute(f, y, metrics=["hscore", "logme", "hscore"])) == ["hscore", "logme"]


# --- invariances -----------------------------------------------------------------------------

@pytest.mark.parametrize("metric", [logme, hscore])
@pytest.mark.parametrize("shape", [(300, 16), (30, 50)])
def test_feature_metrics_ignore_sample_order(metric, shape) -> None:
    f, y = blobs(*shape)
    order = np.random.default_rng(3).permutation(len(y))
    assert metric(f[order], y[order]) == pytest.approx(metric(f, y), rel=1e-10)


def test_logme_ignores_target_class_names() -> None:
    f, y = blobs()
    names = np.array(["cat", "dog", "emu", "fox"])
    relabelled = np.array([7, 2, 9, 0])[y]
    base = logme_evidence(f, y)
    assert logme(f, relabelled) == pytest.approx(base.score, rel=1e-10)
    by_name = logme_evidence(f, names[y])
    assert list(by_name.classes) == list(names)
    np.testing.assert_allclose(by_name.evidence, base.evidence, rtol=1e-12)


def test_hscore_ignores_invertible_affine_transforms() -> None:
    f, y = blobs(d=8)
    rng = np.random.default_rng(5)
    a = rng.normal(size=(8, 8)) + 3 * np.eye(8)
    assert hscore(f @ a + rng.normal(size=8) * 10, y) == pytest.approx(hscore(f, y), rel=1e-6)
    assert hscore(f * 1e3, y) == pytest.approx(hscore(f, y), rel=1e-6)


def test_leep_and_nce_ignore_source_class_order() -> None:
    _, y = blobs()
    p = source_outputs(y)
    perm = np.random.default_rng(4).permutation(p.shape[1])
    assert leep(p[:, perm], y) == pytest.approx(leep(p, y), rel=1e-12)
    z = p.argmax(axis=1)
    assert nce(np.array([40, 3, 17, 8, 25, 11])[z], y) == pytest.approx(nce(z, y), rel=1e-12)
    assert nce(z.astype(str), y) == pytest.approx(nce(z, y), rel=1e-12)


# --- LogME against its formula ---------------------------------------------------------------

def direct_evidence(f: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    """L(α, β) / N straight from the definition, with an explicit D x D matrix A."""
    n, d = f.shape
    a = alpha * np.eye(d) + beta * f.T @ f
    m = beta * np.linalg.solve(a, f.T @ y)
    sign, logdet = np.linalg.slogdet(a)
    assert sign > 0
    ev = (n / 2 * np.log(beta) + d / 2 * np.log(alpha) - n / 2 * np.log(2 * np.pi)
          - beta / 2 * np.sum((f @ m - y) ** 2) - alpha / 2 * m @ m - logdet / 2)
    return ev / n


def mackay_update(f: np.ndarray, y: np.ndarray, alpha: float, beta: float
                  ) -> tuple[float, float]:
    sigma = np.linalg.eigvalsh(f.T @ f)
    a = alpha * np.eye(f.shape[1]) + beta * f.T @ f
    m = beta * np.linalg.solve(a, f.T @ y)
    gamma = np.sum(beta * sigma / (alpha + beta * sigma))
    return gamma / (m @ m), (len(f) - gamma) / np.sum((f @ m - y) ** 2)


@pytest.mark.parametrize("shape", [(7, 3), (5, 8), (6, 8)])
def test_logme_matches_the_evidence_formula_at_a_local_maximum(shape) -> None:
    """Tiny cases, one with N > D and two with D > N, all with a finite fixed point.

    (With D > N the features can interpolate a class; the supremum may then lie at β = ∞,
    and there is no finite point to compare with. This seed avoids that.)
    """
    n, d = shape
    rng = np.random.default_rng(2)
    y = np.arange(n) % 2
    f = rng.normal(size=(n, d)) + 2.0 * np.eye(d)[y]  # each class along its own axis
    res = logme_evidence(f, y)
    assert res.iterations < 200
    assert list(res.classes) == [0, 1]
    for c in range(2):
        target = (y == c).astype(float)
        alpha, beta = res.alpha[c], res.beta[c]
        best = direct_evidence(f, target, alpha, beta)
        assert res.evidence[c] == pytest.approx(best, abs=1e-8)
        new_a, new_b = mackay_update(f, target, alpha, beta)
        assert new_a == pytest.approx(alpha, rel=1e-6)
        assert new_b == pytest.approx(beta, rel=1e-6)
        for da, db in [(1.01, 1), (0.99, 1), (1, 1.01), (1, 0.99)]:
            assert direct_evidence(f, target, alpha * da, beta * db) <= best + 1e-12
    assert res.score == pytest.approx(res.evidence.mean(), rel=1e-15)


def test_logme_counts_zero_eigenvalues_when_features_are_wide() -> None:
    """D > N: log|A| includes (D − r) log α, so appending zero columns changes nothing."""
    f, y = blobs(n=10, d=6, c=2)
    wide = np.hstack([f, np.zeros((10, 20))])
    narrow, padded = logme_evidence(f, y), logme_evidence(wide, y)
    np.testing.assert_allclose(padded.evidence, narrow.evidence, rtol=1e-9)
    np.testing.assert_allclose(padded.alpha, narrow.alpha, rtol=1e-7)


def test_logme_result_shapes() -> None:
    f, y = blobs(c=5)
    res = logme_evidence(f.astype(np.float32), y)
    for arr in (res.evidence, res.alpha, res.beta, res.classes):
        assert arr.shape == (5,)
    assert res.evidence.dtype == np.float64
    assert 0 < res.iterations < 200


# --- hand-computed cases ---------------------------------------------------------------------

def test_nce_hand_computed() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    assert nce(np.array([5, 5, 3, 3, 9, 9]), y) == pytest.approx(0.0, abs=1e-15)
    # every (source, target) pair once: independent, uniform -> −log C
    y = np.repeat([0, 1, 2], 3)
    assert nce(np.tile([0, 1, 2], 3), y) == pytest.approx(-np.log(3), rel=1e-12)
    # one source class: −H(Y) = −(1/4 log 4 + 3/4 log 4/3)
    y = np.array([0, 1, 1, 1])
    expected = 0.25 * np.log(0.25) + 0.75 * np.log(0.75)
    assert nce(np.zeros(4, dtype=int), y) == pytest.approx(expected, rel=1e-12)


def test_leep_hand_computed() -> None:
    y = np.array([0, 0, 1, 1])
    one_hot = np.eye(2)[[1, 1, 0, 0]]  # certain and perfectly informative: LEEP = 0
    assert leep(one_hot, y) == pytest.approx(0.0, abs=1e-15)
    assert leep(np.full((4, 2), 0.5), y) == pytest.approx(np.log(0.5), rel=1e-12)
    # θ rows (.8,.2),(.6,.4),(.3,.7),(.1,.9) with y = 0,0,1,1
    theta = np.array([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]])
    joint = np.array([[1.4, 0.6], [0.4, 1.6]]) / 4  # rows y, columns z
    cond = joint / joint.sum(axis=0)
    eep = [theta[i] @ cond[y[i]] for i in range(4)]
    assert leep(theta, y) == pytest.approx(np.mean(np.log(eep)), rel=1e-12)


def test_hscore_known_values() -> None:
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    means = np.array([-1.0, 0.5, 3.0])
    assert hscore(means[y][:, None], y) == pytest.approx(1.0, rel=1e-12)
    f, y = blobs(n=200, d=6, c=3)
    covf = np.cov(f, rowvar=False)
    g = np.stack([f[y == k].mean(axis=0) for k in range(3)])[y]
    expected = np.trace(np.linalg.pinv(covf) @ np.cov(g, rowvar=False))
    assert hscore(f, y) == pytest.approx(expected, rel=1e-9)
    assert 0 < hscore(f, y) <= 2  # at most C − 1


# --- validation ------------------------------------------------------------------------------

def raises(match: str):
    return pytest.raises(UsageError, match=match)


def test_feature_shape_errors() -> None:
    f, y = blobs(n=20)
    with raises(r"2-D .*got shape \(20,\).*reshape\(-1, 1\)"):
        logme(f[:, 0], y)
    with raises(r"shape \(20, 4, 4\).*reshape\(len\(x\), -1\)"):
        hscore(f.reshape(20, 4, 4), y)
    with raises(r"labels has 19 entries but features has 20"):
        logme(f, y[:-1])
    with raises("at least 2 samples"):
        hscore(f[:1], y[:1])
    with raises("must be numbers"):
        logme(np.full((20, 2), "a"), y)


def test_nonfinite_features_name_count_and_first_row() -> None:
    f, y = blobs(n=20)
    f[7, 2] = np.nan
    f[9, 0] = np.inf
    f[9, 1] = np.nan
    with raises(r"2 NaN and 1 inf value\(s\) in 2 row\(s\) \(first at index 7\)"):
        logme(f, y)


def test_label_errors() -> None:
    f, y = blobs(n=20)
    with raises(r"one-hot.*y\.argmax\(1\)"):
        logme(f, np.eye(4)[y])
    with raises(r"ravel"):
        logme(f, y[:, None])
    with raises(r"class ids.*labels\[3\] = 0\.5"):
        logme(f, np.where(np.arange(20) == 3, 0.5, y.astype(float)))
    with raises(r"labels holds 1 NaN"):
        logme(f, np.where(np.arange(20) == 3, np.nan, y.astype(float)))
    with raises(r"all 20 labels are class 3.*need at least 2"):
        hscore(f, np.full(20, 3))
    with raises(r"5 samples for 5 classes"):
        logme(f[:5], np.arange(5))
    with raises(r"cannot be sorted"):
        logme(f, np.array([1, "a"] * 10, dtype=object))


def test_float_labels_that_are_whole_numbers_are_accepted() -> None:
    f, y = blobs(n=40)
    assert logme(f, y.astype(float)) == pytest.approx(logme(f, y), rel=1e-12)


def test_probability_errors_suggest_softmax() -> None:
    _, y = blobs(n=20)
    logits = np.random.default_rng(0).normal(size=(20, 5))
    with raises(r"negative entry.*logits.*torch\.softmax\(x, 1\)"):
        leep(logits, y)
    with raises(r"rows must sum to 1.*row 0 sums to.*softmax"):
        leep(np.abs(logits), y)
    with raises(r"source_probs must be 2-D"):
        leep(np.full(20, 0.5), y)
    with raises(r"labels has 19 entries but source_probs has 20"):
        leep(np.full((20, 2), 0.5), y[:-1])
    p = np.full((20, 2), 0.5)
    p[4, 1] = np.inf
    with raises(r"source_probs holds 0 NaN and 1 inf.*index 4"):
        leep(p, y)
    assert leep(np.full((20, 2), 0.5) + 1e-4, y) < 0  # small rounding is tolerated


def test_compute_errors_name_the_missing_input_and_flag() -> None:
    f, y = blobs(n=20)
    with raises(r"'leep' needs source_probs \(--source-probs\)"):
        compute(f, y, metrics=["logme", "leep"])
    with raises(r"'hscore' needs features \(--features\)"):
        compute(labels=y, source_probs=source_outputs(y), metrics="hscore")
    with raises(r"unknown metric 'logmee' \(did you mean 'logme'\?\); choose from"):
        compute(f, y, metrics=["logmee"])
    with raises(r"labels \(--labels\) are required"):
        compute(f)
    with raises(r"nothing to score.*--features.*--source-probs"):
        compute(labels=y)
    with raises(r"source_probs has 19 rows but features has 20"):
        compute(f, y, source_probs=source_outputs(y)[:-1])
    with raises("metrics is empty"):
        compute(f, y, metrics=[])


def test_logme_of_useless_features_is_the_noise_only_model() -> None:
    """Zero features explain nothing: the evidence is that of y ~ N(0, 1/β), β = N/||y||²."""
    y = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    res = logme_evidence(np.zeros((10, 3)), y)
    n_c = np.array([3.0, 7.0])
    expected = 0.5 * np.log(10 / n_c) - 0.5 * np.log(2 * np.pi) - 0.5
    np.testing.assert_allclose(res.evidence, expected, rtol=1e-12)
    assert np.isfinite(res.score) and res.iterations < 200
