"""Feature extraction from a torch model: the right layer's input, in loader order, with the
model left as it was found."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graphrec.errors import UsageError
from graphrec.scores import Extracted, extract, logme


class TinyCNN(nn.Module):
    """conv -> relu -> global average pool -> Linear(8, 4), the last under `head.linear`."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(OrderedDict(linear=nn.Linear(8, 4)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@pytest.fixture
def model() -> TinyCNN:
    torch.manual_seed(0)
    return TinyCNN()


@pytest.fixture
def images() -> tuple[torch.Tensor, torch.Tensor]:
    """40 noisy 3 x 16 x 16 images; the class (0, 1, 2) makes one channel bright."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(40) % 3
    x = torch.rand(40, 3, 16, 16, generator=g) * 0.5
    x[torch.arange(40), y] += 1.0
    return x, y


def loader(x: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 7) -> DataLoader:
    data = TensorDataset(x) if y is None else TensorDataset(x, y)
    if y is None:  # yield bare tensors, not 1-tuples
        return DataLoader(data, batch_size=batch_size, collate_fn=lambda b: torch.stack(
            [item[0] for item in b]))
    return DataLoader(data, batch_size=batch_size)


def test_features_probs_and_labels_match_a_direct_forward_pass(model, images) -> None:
    x, y = images
    out = extract(model, loader(x, y), progress=False)
    assert isinstance(out, Extracted)
    assert out.features.shape == (40, 8)
    assert out.features.dtype == np.float32
    assert out.probs.shape == (40, 4)
    with torch.no_grad():
        pooled = model.body(x).numpy()
        probs = torch.softmax(model(x), dim=1).numpy()
    np.testing.assert_allclose(out.features, pooled, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.probs, probs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.probs.sum(axis=1), 1.0, atol=1e-12)
    assert out.labels is not None and out.labels.dtype == np.int64
    np.testing.assert_array_equal(out.labels, y.numpy())


def test_results_do_not_depend_on_batch_size(model, images) -> None:
    x, y = images
    a = extract(model, loader(x, y, batch_size=7), progress=False)
    b = extract(model, loader(x, y, batch_size=40), progress=False)
    np.testing.assert_allclose(a.features, b.features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.probs, b.probs, rtol=1e-5, atol=1e-6)


def test_bare_tensor_batches_give_no_labels(model, images) -> None:
    x, _ = images
    out = extract(model, loader(x), progress=True)  # the bar goes to stderr
    assert out.labels is None and out.features.shape == (40, 8)


@pytest.mark.parametrize("layer", ["head.linear", "head", "module"])
def test_layer_by_name_or_module(model, images, layer) -> None:
    x, y = images
    chosen = model.head.linear if layer == "module" else layer
    default = extract(model, loader(x, y), progress=False)
    out = extract(model, loader(x, y), layer=chosen, progress=False)
    np.testing.assert_array_equal(out.features, default.features)


def test_an_earlier_layer_gives_its_flattened_input(model, images) -> None:
    x, y = images
    out = extract(model, loader(x, y), layer="body.1", progress=False)  # the ReLU's input
    with torch.no_grad():
        conv = model.body[0](x).reshape(40, -1).numpy()
    assert out.features.shape == (40, 8 * 16 * 16)
    np.testing.assert_allclose(out.features, conv, rtol=1e-5, atol=1e-6)


def test_layer_errors(model, images) -> None:
    x, y = images
    with pytest.raises(UsageError, match=r"no submodule named 'fc'.*head\.linear"):
        extract(model, loader(x, y), layer="fc", progress=False)
    with pytest.raises(UsageError, match="not part of the model"):
        extract(model, loader(x, y), layer=nn.Linear(8, 4), progress=False)
    with pytest.raises(UsageError, match=r"no torch\.nn\.Linear.*pass layer="):
        extract(nn.Sequential(nn.Flatten()), loader(x, y), progress=False)


def test_model_output_must_be_two_dimensional(images) -> None:
    x, y = images
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Flatten(2), nn.Linear(256, 4))
    with pytest.raises(UsageError, match=r"returned shape \(7, 4, 4\).*\(batch, classes\)"):
        extract(model, loader(x, y), progress=False)


def test_training_flags_restored_and_hook_removed(model, images) -> None:
    x, y = images
    model.train()
    model.body.eval()  # a mix of modes must come back as it was
    extract(model, loader(x, y), progress=False)
    assert model.training and model.head.linear.training and not model.body.training
    assert not model.head.linear._forward_pre_hooks
    # also after an error mid-way
    bad = [(x[:7], y[:7]), (x[7:14], y[7:14], y[7:14])]
    with pytest.raises(UsageError, match="batch 1 is a tuple of 3 items"):
        extract(model, bad, progress=False)
    assert model.training and not model.body.training
    assert not model.head.linear._forward_pre_hooks


def test_extracted_features_score_the_class_structure(model, images) -> None:
    x, y = images
    out = extract(model, loader(x, y), progress=False)
    shuffled = np.random.default_rng(0).permutation(out.labels)
    assert logme(out.features, out.labels) > logme(out.features, shuffled)
