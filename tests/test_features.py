"""Tests for node feature encoders, on hand-computed cases and on the paper's DomainNet data."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import graphrec
from graphrec.predict.features import NodeEncoder, dataset_encoder, model_encoder
from graphrec.predict.graph import TransferGraph
from graphrec.predict.io import from_zoo

from .conftest import DOMAINNET, skip_without_domainnet


def f32(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def roundtrip(enc: NodeEncoder) -> NodeEncoder:
    return NodeEncoder.from_state(json.loads(json.dumps(enc.state_dict())))


# -- categorical ---------------------------------------------------------------------------

def test_one_hot_sorted_and_unseen_or_missing_is_zero() -> None:
    enc = NodeEncoder(categorical=["family"])
    x = enc.fit_transform([{"family": "resnet"}, {"family": "convnext"}, {"family": "resnet"},
                           {}])
    assert enc.feature_names == ["family=convnext", "family=resnet"]
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, f32([[0, 1], [1, 0], [0, 1], [0, 0]]))
    new = enc.transform([{"family": "vit"}, {"family": None}, {"family": float("nan")},
                         {"family": ["resnet"]}, {"family": "resnet"}])
    np.testing.assert_array_equal(new, f32([[0, 0], [0, 0], [0, 0], [0, 0], [0, 1]]))


def test_categorical_numbers_name_one_category() -> None:
    enc = NodeEncoder(categorical=["size"]).fit([{"size": 224}, {"size": 384}])
    assert enc.feature_names == ["size=224", "size=384"]
    np.testing.assert_array_equal(enc.transform([{"size": 224.0}, {"size": "384"}]),
                                  f32([[1, 0], [0, 1]]))


def test_min_count_drops_rare_categories_and_labels() -> None:
    props = [{"d": "a", "l": ["x", "y"]}, {"d": "b", "l": ["x", "x"]}, {"d": "b", "l": ["y"]},
             {"d": "c", "l": ["x", "z"]}]
    enc = NodeEncoder(categorical=["d"], multi_hot=["l"], min_count=2).fit(props)
    # "x" is in three nodes, "y" in two; a label repeated inside one node counts once.
    assert enc.feature_names == ["d=b", "l=x", "l=y"]
    np.testing.assert_array_equal(enc.transform(props), f32([[0, 1, 1], [1, 1, 0], [1, 0, 1],
                                                             [0, 1, 0]]))
    rare = NodeEncoder(multi_hot=["l"], min_count=2).fit([{"l": ["x", "x"]}, {"l": ["y"]}])
    assert rare.dim == 0  # no item in two nodes


# -- numeric -------------------------------------------------------------------------------

def test_standardise_with_missing_indicator() -> None:
    enc = NodeEncoder(numeric=["top1"])
    x = enc.fit_transform([{"top1": 1}, {"top1": 3.0}, {"top1": None}, {}])
    # mean of the present values 2, population std 1.
    assert enc.feature_names == ["top1", "top1:missing"]
    np.testing.assert_array_equal(x, f32([[-1, 0], [1, 0], [0, 1], [0, 1]]))
    state = enc.state_dict()["numeric_stats"]["top1"]
    assert state == {"mean": 2.0, "std": 1.0, "missing": True}
    new = enc.transform([{"top1": 5}, {"top1": "abc"}, {"top1": float("nan")},
                         {"top1": float("inf")}, {"top1": True}, {"top1": "4"}])
    np.testing.assert_array_equal(new, f32([[3, 0], [0, 1], [0, 1], [0, 1], [0, 1], [2, 0]]))


def test_log_scale_then_standardise() -> None:
    enc = NodeEncoder(numeric=["params"], log_scale=["params"])
    x = enc.fit_transform([{"params": 0}, {"params": 3}])
    # log1p: [0, ln 4]; mean ln 2, std ln 2.
    st = enc.state_dict()["numeric_stats"]["params"]
    assert st["mean"] == pytest.approx(math.log(2), rel=1e-15)
    assert st["std"] == pytest.approx(math.log(2), rel=1e-15)
    assert enc.feature_names == ["params"]  # nothing missing at fit time: no indicator
    np.testing.assert_array_equal(x, f32([[-1], [1]]))
    # ln(1 + 15) = 4 ln 2 -> (4 - 1) ln 2 / ln 2 = 3; negative is missing -> the mean, 0.
    np.testing.assert_allclose(enc.transform([{"params": 15}, {"params": -5}]),
                               f32([[3], [0]]), rtol=1e-6, atol=0)


def test_log_scale_negative_counts_as_missing_at_fit_time() -> None:
    enc = NodeEncoder(numeric=["g"], log_scale=["g"]).fit([{"g": 0}, {"g": 3}, {"g": -1}])
    assert enc.feature_names == ["g", "g:missing"]
    np.testing.assert_array_equal(enc.transform([{"g": -1}]), f32([[0, 1]]))


def test_constant_column_uses_std_one() -> None:
    enc = NodeEncoder(numeric=["input_size"])
    x = enc.fit_transform([{"input_size": 224}] * 3)
    assert enc.state_dict()["numeric_stats"]["input_size"]["std"] == 1.0
    np.testing.assert_array_equal(x, np.zeros((3, 1), np.float32))
    np.testing.assert_array_equal(enc.transform([{"input_size": 384}]), f32([[160]]))


def test_missing_only_after_fit_keeps_dim_and_imputes_mean() -> None:
    enc = NodeEncoder(numeric=["a", "b"]).fit([{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    assert enc.feature_names == ["a", "b"]
    x = enc.transform([{"a": None}, {"b": 4}])
    assert x.shape == (2, enc.dim) == (2, 2)
    np.testing.assert_array_equal(x, f32([[0, 0], [0, 1]]))


# -- multi-hot -----------------------------------------------------------------------------

def test_multi_hot_vocab_string_and_unseen_items() -> None:
    enc = NodeEncoder(multi_hot=["labels"])
    x = enc.fit_transform([{"labels": ["dog", "cat"]}, {"labels": "cat"},
                           {"labels": ["dog", "dog"]}, {"labels": None}, {}])
    assert enc.feature_names == ["labels=cat", "labels=dog"]
    np.testing.assert_array_equal(x, f32([[1, 1], [1, 0], [0, 1], [0, 0], [0, 0]]))
    new = enc.transform([{"labels": ["cat", "zebra", None]}, {"labels": ["zebra"]},
                         {"labels": 7}, {"labels": ("dog",)}])
    np.testing.assert_array_equal(new, f32([[1, 0], [0, 0], [0, 0], [0, 1]]))


# -- shape, errors, determinism, state -----------------------------------------------------

def test_column_order_follows_configuration() -> None:
    enc = NodeEncoder(categorical=["d"], numeric=["n"], multi_hot=["l"]).fit(
        [{"l": ["q"], "n": 1, "d": "x"}, {"l": "p", "d": "y"}])
    assert enc.feature_names == ["d=x", "d=y", "n", "n:missing", "l=p", "l=q"]
    assert enc.dim == 6
    assert enc.block("n") == slice(2, 4)
    assert enc.block("l") == slice(4, 6)


def test_absent_properties_yield_no_columns() -> None:
    enc = NodeEncoder(categorical=["c"], numeric=["n"], multi_hot=["l"])
    x = enc.fit_transform([{"other": 1}, {"n": None, "c": None, "l": []}])
    assert enc.dim == 0 and enc.feature_names == []
    assert x.shape == (2, 0) and x.dtype == np.float32
    assert enc.transform([{"c": "a", "n": 3, "l": ["z"]}]).shape == (1, 0)
    assert enc.block("n") == slice(0, 0)
    partial = NodeEncoder(categorical=["c"], numeric=["n"]).fit([{"n": 1}, {"n": 2}])
    assert partial.feature_names == ["n"]
    assert roundtrip(enc).transform([{}]).shape == (1, 0)


def test_fit_on_nothing_and_bad_configuration_raise() -> None:
    with pytest.raises(ValueError, match="no nodes"):
        NodeEncoder(numeric=["n"]).fit([])
    with pytest.raises(ValueError, match="not numeric"):
        NodeEncoder(numeric=["n"], log_scale=["m"])
    with pytest.raises(ValueError, match="more than once"):
        NodeEncoder(categorical=["x"], multi_hot=["x"])
    with pytest.raises(ValueError, match="min_count"):
        NodeEncoder(min_count=0)
    with pytest.raises(TypeError, match="not the string"):
        NodeEncoder(categorical="family")
    with pytest.raises(RuntimeError, match="not fitted"):
        NodeEncoder(numeric=["n"]).transform([{"n": 1}])
    with pytest.raises(TypeError, match="one map"):
        NodeEncoder(numeric=["n"]).fit({"n": 1})


def test_transform_empty_sequence() -> None:
    enc = NodeEncoder(categorical=["c"], numeric=["n"]).fit([{"c": "a", "n": 1}])
    assert enc.transform([]).shape == (0, enc.dim) == (0, 2)


MIXED: list[dict[str, Any]] = [
    {"fam": "b", "p": 10, "t": 0.5, "labels": ["x", "y"]},
    {"fam": "a", "p": None, "t": "oops", "labels": "y"},
    {"fam": None, "p": 1000, "t": 0.75, "labels": ["z", "x"]},
    {"p": 3.5, "labels": []},
]


def mixed_encoder() -> NodeEncoder:
    return NodeEncoder(categorical=["fam"], numeric=["p", "t"], multi_hot=["labels"],
                       log_scale=["p"])


def test_deterministic_regardless_of_dict_and_node_order() -> None:
    reordered = [dict(reversed(list(p.items()))) for p in reversed(MIXED)]
    a, b = mixed_encoder().fit(MIXED), mixed_encoder().fit(reordered)
    assert a.state_dict() == b.state_dict()
    np.testing.assert_array_equal(a.transform(MIXED), b.transform(reordered)[::-1])
    np.testing.assert_array_equal(a.transform(MIXED), mixed_encoder().fit_transform(MIXED))


def test_state_json_roundtrip_is_bitwise_identical() -> None:
    enc = mixed_encoder().fit(MIXED)
    text = json.dumps(enc.state_dict())  # plain JSON, no custom encoder
    back = NodeEncoder.from_state(json.loads(text))
    later = [*MIXED, {"fam": "new", "p": 12345678, "t": 0.1234567, "labels": ["x", "new"]},
             {"p": -3, "t": None}]
    before, after = enc.transform(later), back.transform(later)
    assert before.tobytes() == after.tobytes()
    assert back.feature_names == enc.feature_names and back.dim == enc.dim
    assert back.state_dict() == enc.state_dict()
    assert repr(back) == repr(enc)


def test_from_state_rejects_bad_states() -> None:
    state = mixed_encoder().fit(MIXED).state_dict()
    with pytest.raises(ValueError, match="version"):
        NodeEncoder.from_state({**state, "version": 99})
    with pytest.raises(ValueError, match="malformed"):
        NodeEncoder.from_state({k: v for k, v in state.items() if k != "vocab"})
    with pytest.raises(ValueError, match="inconsistent"):
        NodeEncoder.from_state({**state, "feature_names": ["nope"]})


def test_default_encoder_configuration() -> None:
    m, d = model_encoder(), dataset_encoder()
    assert m.categorical == ["family", "pretrain_dataset"]
    assert m.numeric == ["params", "gflops", "top1", "input_size"]
    assert m.log_scale == ["params", "gflops"] and m.multi_hot == []
    assert d.categorical == ["domain"] and d.multi_hot == ["labels"]
    assert d.numeric == d.log_scale == ["num_classes", "samples_per_class", "train_size"]


# -- the paper's data ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def paper_graph() -> TransferGraph:
    skip_without_domainnet()
    return from_zoo(graphrec.load(DOMAINNET, loader="domainnet"))


def test_domainnet_model_features(paper_graph: TransferGraph) -> None:
    enc = model_encoder()
    x = enc.fit_transform(paper_graph.model_props)
    assert x.shape == (10, enc.dim) and x.dtype == np.float32
    assert np.isfinite(x).all()
    names = enc.feature_names
    assert {"params", "gflops", "top1", "input_size"} <= set(names)
    assert "family=resnet" in names and "pretrain_dataset=ImageNet-1K" in names
    fam = x[:, enc.block("family")]
    np.testing.assert_array_equal(fam.sum(axis=1), np.ones(10, np.float32))
    # standardised columns: mean 0, std 1 (or all 0 for the constant input size).
    for col in ("params", "gflops", "top1"):
        v = x[:, names.index(col)].astype(np.float64)
        assert abs(v.mean()) < 1e-6 and abs(v.std() - 1) < 1e-6
    assert not x[:, names.index("input_size")].any()
    assert roundtrip(enc).transform(paper_graph.model_props).tobytes() == x.tobytes()


def test_domainnet_dataset_features(paper_graph: TransferGraph) -> None:
    enc = dataset_encoder()
    props = paper_graph.dataset_props
    x = enc.fit_transform(props)
    assert x.shape == (270, enc.dim) and x.dtype == np.float32
    assert np.isfinite(x).all()
    labels = x[:, enc.block("labels")]
    assert all(n.startswith("labels=") for n in enc.feature_names[enc.block("labels")])
    np.testing.assert_array_equal(labels.sum(axis=1),
                                  np.array([len(set(p["labels"])) for p in props], np.float32))
    np.testing.assert_array_equal(x[:, enc.block("domain")].sum(axis=1),
                                  np.ones(270, np.float32))
    assert not any(n.endswith(":missing") for n in enc.feature_names)

    known = enc.feature_names[enc.block("labels")][0].removeprefix("labels=")
    cold = {"name": "my_new_dataset", "domain": "xray", "num_classes": 3,
            "samples_per_class": 7, "train_size": None,
            "labels": [known, "pneumonia", "healthy"]}
    back = roundtrip(enc)
    row = back.transform([cold])
    assert row.shape == (1, enc.dim) and np.isfinite(row).all()
    assert row.tobytes() == enc.transform([cold]).tobytes()
    assert not row[0, enc.block("domain")].any()  # unseen domain: all zeros
    assert row[0, enc.block("labels")].sum() == 1  # only the known label
    assert row[0, enc.feature_names.index("train_size")] == 0  # missing: the mean
