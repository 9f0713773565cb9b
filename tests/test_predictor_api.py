"""The predictors' public surface: scikit-learn's parameter contract (get_params, set_params,
clone), the old import path `graphrec.predict.predictors`, and checkpoints written before
the predictors moved modules."""

from __future__ import annotations

import copy
import inspect
from pathlib import Path

import numpy as np
import pytest
import torch

from graphrec.predict import baselines, gat, hierarchical, linear
from graphrec.predict.base import Predictor
from graphrec.predict.registry import PREDICTORS, load_checkpoint, make_predictor

from .test_predictors import FAST, toy_graph

#: What each registry name loads as. Checkpoints and scripts record the name (never the
#: module or class path), so a name may never change meaning.
REGISTRY_CLASSES = {"auto": "AutoPredictor", "hla": "HierarchicalLogitPredictor",
                    "scg4trf": "GATPredictor", "g4trf": "G4TrfPredictor",
                    "mean": "MeanPredictor", "linear": "LinearPredictor",
                    "mc": "MatrixCompletionPredictor", "random": "RandomPredictor",
                    "proxy": "ProxyScorePredictor"}

#: A setting other than the default, per predictor, for set_params.
OTHER = {"auto": {"folds": 3}, "hla": {"neighbours": 8}, "scg4trf": {"hidden": 16},
         "g4trf": {"lr": 0.01}, "mean": {}, "linear": {"alpha": 2.0}, "mc": {"rank": 3},
         "random": {"seed": 5}, "proxy": {"metrics": ["logme"]}}


def _clone(predictor: Predictor) -> Predictor:
    """scikit-learn's `clone` without scikit-learn: the class, rebuilt from deep copies of
    its parameters; every parameter must come back as the very object given."""
    given = {k: copy.deepcopy(v) for k, v in predictor.get_params(deep=False).items()}
    twin = type(predictor)(**given)
    kept = twin.get_params(deep=False)
    assert all(kept[k] is v for k, v in given.items()), "__init__ changed a parameter"
    return twin


def _equal(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def test_the_registry_names_keep_their_classes() -> None:
    assert {n: cls.__name__ for n, cls in PREDICTORS.items()} == REGISTRY_CLASSES
    assert all(cls.name == n for n, cls in PREDICTORS.items())


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_params_are_the_constructor_arguments(name: str) -> None:
    cls = PREDICTORS[name]
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    signature = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                 if p.name != "self" and p.kind in named]  # object.__init__ (mean): none
    p = make_predictor(name, **FAST[name])
    assert cls.param_names() == signature
    assert list(p.get_params(deep=False)) == signature
    assert p.get_params(deep=True).keys() == p.get_params(deep=False).keys()  # none nested
    for key, value in FAST[name].items():
        assert p.get_params()[key] is value
    # __init__ stores its arguments and nothing else (scikit-learn's rule: no checks, no
    # fitted placeholders), so a predictor is its parameters until fitted.
    assert set(vars(p)) == set(signature)
    # get_config (what checkpoints and the Predictor node record) is the same parameters.
    config = p.get_config()
    assert list(config) == signature
    assert all(_equal(list(v) if isinstance(v, tuple) else v,
                      list(w) if isinstance(w, tuple) else w)
               for v, w in zip(config.values(), p.get_params(deep=False).values(),
                               strict=True))


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_set_params_sets_returns_self_and_names_the_valid_ones(name: str) -> None:
    p = make_predictor(name, **FAST[name])
    assert p.set_params() is p
    assert p.set_params(**OTHER[name]) is p
    for key, value in OTHER[name].items():
        assert p.get_params()[key] == value
    with pytest.raises(ValueError, match="no parameter 'nope'") as info:
        p.set_params(nope=1)
    names = p.param_names()
    if names:
        assert f"its parameters are {', '.join(names)}" in str(info.value)
    else:
        assert "it takes none" in str(info.value)
    with pytest.raises(ValueError, match="no parameter 'nope'"):
        p.set_params(nope__deeper=1)


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_a_clone_is_unfitted_with_equal_params(name: str) -> None:
    graph = toy_graph(scores=True)
    fitted = make_predictor(name, **FAST[name]).fit(graph)
    twin = _clone(fitted)
    assert type(twin) is type(fitted)
    params = fitted.get_params(deep=False)
    assert all(_equal(v, params[k]) for k, v in twin.get_params(deep=False).items())
    with pytest.raises(RuntimeError, match="not fitted"):
        twin.predict(graph, graph.all_pairs())
    again = twin.fit(graph).predict(graph, graph.all_pairs())
    assert np.array_equal(again, fitted.predict(graph, graph.all_pairs()))


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_sklearn_clone(name: str) -> None:
    sklearn_base = pytest.importorskip("sklearn.base")
    graph = toy_graph(scores=True)
    fitted = make_predictor(name, **FAST[name]).fit(graph)
    twin = sklearn_base.clone(fitted)
    assert type(twin) is type(fitted) and twin is not fitted
    assert twin.get_params().keys() == fitted.get_params().keys()
    assert all(_equal(v, fitted.get_params()[k]) for k, v in twin.get_params().items())
    with pytest.raises(RuntimeError, match="not fitted"):
        twin.predict(graph, graph.all_pairs())


def test_clone_copies_feature_arrays_and_validation_waits_for_fit() -> None:
    features = np.ones((5, 3))
    p = gat.G4TrfPredictor(epochs=2, model_features=features, dataset_features=np.ones((7, 3)))
    twin = _clone(p)
    assert twin.model_features is not features and np.array_equal(twin.model_features, features)
    bad = linear.LinearPredictor(model_features=np.zeros(5))  # constructing never checks
    assert bad.get_params()["model_features"].shape == (5,)
    with pytest.raises(ValueError, match="2-D"):
        bad.fit(toy_graph())


# -- the old module layout ----------------------------------------------------------------


def test_the_old_import_path_exports_the_old_names() -> None:
    from graphrec.predict import predictors

    assert predictors.__all__ == ["G4TrfPredictor", "GATPredictor", "LinearPredictor",
                                  "MeanPredictor", "Predictor", "SCG4TrfPredictor"]
    assert predictors.Predictor is Predictor
    assert predictors.MeanPredictor is baselines.MeanPredictor
    assert predictors.LinearPredictor is linear.LinearPredictor
    assert predictors.GATPredictor is gat.GATPredictor is predictors.SCG4TrfPredictor
    assert predictors.G4TrfPredictor is gat.G4TrfPredictor
    assert hierarchical.HierarchicalPredictor is hierarchical.HierarchicalLogitPredictor


def test_a_checkpoint_in_the_old_layout_still_loads(tmp_path: Path) -> None:
    """What `Predictor.save` wrote before the split (predictors.py, graphrec 0.1.0): the
    registry name, the config, the state, the version; no module or class path."""
    graph = toy_graph()
    means = np.array([0.5, 0.6, 0.7, 0.8, 0.9])
    torch.save({"predictor": "mean", "config": {},
                "state": {"models": list(graph.models), "means": torch.from_numpy(means),
                          "global_mean": 0.7},
                "graphrec_version": "0.1.0"}, tmp_path / "old.pt")
    for load in (Predictor.load, baselines.MeanPredictor.load, load_checkpoint):
        loaded = load(tmp_path / "old.pt")
        assert type(loaded) is baselines.MeanPredictor
        np.testing.assert_array_equal(loaded.predict(graph, graph.all_pairs()),
                                      np.repeat(means, graph.num_datasets))
    with pytest.raises(ValueError, match="holds a MeanPredictor, not a GATPredictor"):
        gat.GATPredictor.load(tmp_path / "old.pt")
    torch.save({"predictor": "gone", "config": {}, "state": {}}, tmp_path / "gone.pt")
    with pytest.raises(ValueError, match=r"unknown predictor 'gone' \(this graphrec knows .*hla"):
        Predictor.load(tmp_path / "gone.pt")


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_a_checkpoint_records_the_registry_name_only(name: str, tmp_path: Path) -> None:
    make_predictor(name, **FAST[name]).fit(toy_graph(scores=True)).save(tmp_path / "p.pt")
    data = torch.load(tmp_path / "p.pt", weights_only=True)
    assert set(data) == {"predictor", "config", "state", "graphrec_version"}
    assert data["predictor"] == name
