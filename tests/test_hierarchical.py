"""graphrec's default predictor (`hla`): what each of its parts is there for."""

from __future__ import annotations

import numpy as np
import pytest

from graphrec.benchmark.metrics import column_spearman
from graphrec.predict.baselines import MeanPredictor
from graphrec.predict.gat import GATPredictor
from graphrec.predict.graph import TransferGraph
from graphrec.predict.hierarchical import HierarchicalLogitPredictor, _Attributes, _neighbours


def test_neighbours_by_domain_and_label_overlap() -> None:
    props = [{"domain": "real", "labels": ["cat", "dog"]},
             {"domain": "real", "labels": ["cat", "dog", "car"]},   # Jaccard 2/3 with 0
             {"domain": "sketch", "labels": ["cat", "dog"]},        # other domain: 0
             {"domain": "real", "labels": ["car"]}]                 # Jaccard 0 with 0
    attrs = _Attributes(props)
    index, weight = _neighbours(attrs, attrs, 2, 1.0, np.arange(4))
    assert index[0, np.argmax(weight[0])] == 1
    assert weight[0].max() == pytest.approx(2 / 3)
    assert weight[2].max() == 0.0  # alone in its domain
    assert 2 not in index[0][weight[0] > 0]
    # A new dataset (not excluded) matches its twin fully.
    query = _Attributes([{"domain": "sketch", "labels": ["dog", "cat"]}])
    index, weight = _neighbours(query, attrs, 1, 4.0, np.array([-1]))
    assert index[0, 0] == 2 and weight[0, 0] == pytest.approx(1.0)


def _zoo(seed: int, cold_share: float = 0.25) -> tuple[TransferGraph, np.ndarray, np.ndarray]:
    """8 models x 120 datasets. Accuracy = a model's base + a model-specific slope in the
    number of classes + an effect shared by datasets with the same domain and labels (a
    "sibling" effect that metadata columns cannot see) + noise. Returns (graph with the
    known edges, truth matrix, bool mask of the known entries)."""
    rng = np.random.default_rng(seed)
    m, d = 8, 120
    base, slope = rng.normal(0, 0.6, m), rng.normal(0, 0.5, m)
    label_sets = [[f"l{3 * k}", f"l{3 * k + 1}", f"l{3 * k + 2}"] for k in range(20)]
    domains = ["real", "sketch", "paint"]
    props, sibling = [], {}
    classes = rng.choice([2, 4, 8, 16, 32], d)
    for j in range(d):
        dom, labels = domains[j % 3], label_sets[rng.integers(20)]
        props.append({"name": f"d{j}", "domain": dom, "num_classes": int(classes[j]),
                      "samples_per_class": 30, "train_size": 30 * int(classes[j]),
                      "labels": labels})
        sibling.setdefault((dom, tuple(labels)), rng.normal(0, 0.7, m))
    shared = np.stack([sibling[(p["domain"], tuple(p["labels"]))] for p in props], axis=1)
    logit = (base[:, None] + slope[:, None] * (np.log(classes)[None, :] - 2) + shared
             + rng.normal(0, 0.1, (m, d)))
    truth = 1 / (1 + np.exp(-logit))
    known = rng.random((m, d)) < 0.5
    known[:, rng.permutation(d)[: int(cold_share * d)]] = False
    edges = np.argwhere(known)
    models = [f"m{i}" for i in range(m)]
    graph = TransferGraph(models, [p["name"] for p in props], [{"name": n} for n in models],
                          props, edges, truth[known])
    return graph, truth, known


def _unknown_spearman(predictor, graph, truth, known, cold_only=False) -> float:
    scores = predictor.fit(graph).predict(graph, graph.all_pairs()).reshape(truth.shape)
    valid = ~known
    if cold_only:
        valid &= ~known.any(axis=0)[None, :]
    rho = column_spearman(truth, scores, valid)
    return float(np.nanmean(rho))


def test_hla_ranks_models_per_dataset_and_uses_siblings() -> None:
    graph, truth, known = _zoo(0)
    hla = _unknown_spearman(HierarchicalLogitPredictor(), graph, truth, known)
    mean = _unknown_spearman(MeanPredictor(), graph, truth, known)
    gat = _unknown_spearman(GATPredictor(epochs=100), graph, truth, known)
    # The mean and the paper's additive decoder rank models alike everywhere.
    assert hla > mean + 0.15 and hla > gat + 0.1, (hla, mean, gat)
    # Cold datasets: only the sibling smoothing sees the shared effect.
    cold_with = _unknown_spearman(HierarchicalLogitPredictor(), graph, truth, known, cold_only=True)
    cold_without = _unknown_spearman(HierarchicalLogitPredictor(neighbours=0), graph, truth, known,
                                     cold_only=True)
    assert cold_with > cold_without + 0.05, (cold_with, cold_without)


def test_hla_is_deterministic_and_checks_its_config() -> None:
    graph, _, _ = _zoo(1)
    pairs = graph.all_pairs()
    first = HierarchicalLogitPredictor().fit(graph).predict(graph, pairs)
    assert np.array_equal(first, HierarchicalLogitPredictor().fit(graph).predict(graph, pairs))
    for bad in ({"neighbours": -1}, {"iterations": 0}, {"clip": 0.5}, {"sharpness": 0},
                {"interaction_alpha": "x"}):
        with pytest.raises(ValueError):
            HierarchicalLogitPredictor(**bad).fit(graph)


def test_hla_scores_do_not_depend_on_how_pairs_are_asked() -> None:
    graph, _, _ = _zoo(3)
    predictor = HierarchicalLogitPredictor().fit(graph)
    pairs = graph.all_pairs()
    everything = predictor.predict(graph, pairs)
    order = np.random.default_rng(0).permutation(len(pairs))
    shuffled = predictor.predict(graph, pairs[order])
    np.testing.assert_allclose(shuffled, everything[order], rtol=0, atol=1e-12)
    one_by_one = [predictor.predict(graph, pairs[k:k + 1])[0] for k in range(0, len(pairs), 97)]
    np.testing.assert_allclose(one_by_one, everything[::97], rtol=0, atol=1e-12)


def test_saved_label_arrays_score_as_the_properties_do(tmp_path) -> None:
    """The checkpoint keeps the training datasets' labels as arrays (fast to load); a
    checkpoint without them (an older one) reads the properties: same neighbours, same
    scores, for the training graph and for a new dataset."""
    from graphrec.predict.base import Predictor

    graph, _, _ = _zoo(5)
    predictor = HierarchicalLogitPredictor().fit(graph)
    predictor.save(tmp_path / "hla.pt")
    loaded = Predictor.load(tmp_path / "hla.pt")
    older = HierarchicalLogitPredictor()  # as saved before the arrays: the properties instead
    older.set_state({**{k: v for k, v in predictor.get_state().items()
                        if not k.startswith("label_")},
                     "dataset_props": [{"domain": p.get("domain"), "labels": p.get("labels")}
                                       for p in graph.dataset_props]})
    assert "dataset_props" not in loaded._state
    reference = _Attributes.from_state(loaded._state, False)
    assert reference.labels == _Attributes(graph.dataset_props).labels
    new = TransferGraph(graph.models, ["brand_new"], graph.model_props,
                        [{"domain": graph.dataset_props[0].get("domain"),
                          "labels": graph.dataset_props[0].get("labels")}],
                        np.zeros((0, 2), dtype=np.int64), np.zeros(0))
    for g in (graph, new):
        pairs = g.all_pairs()
        np.testing.assert_allclose(loaded.predict(g, pairs), older.predict(g, pairs),
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(loaded.predict(g, pairs), predictor.predict(g, pairs),
                                   rtol=0, atol=1e-12)
