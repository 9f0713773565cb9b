"""Run a torch model over a data loader and keep what the scores need.

LogME and H-Score score the penultimate-layer features; LEEP and NCE score the source
model's softmax outputs. Both come from one forward pass: a forward pre-hook on the
classifier layer records its input (the features), and the model's output gives the
probabilities. Results move to CPU numpy batch by batch, so GPU memory holds one batch.

torch and tqdm are imported when `extract` runs, so `graphrec.scores` stays light for
users who bring their own arrays.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UsageError

if TYPE_CHECKING:
    import torch

__all__ = ["Extracted", "extract"]


@dataclass(frozen=True, eq=False)
class Extracted:
    """One model's outputs on a data set, row i for the loader's i-th sample."""

    features: np.ndarray  # (N, D) float32 (float64 if the model computes in float64)
    probs: np.ndarray  # (N, Z) float64 softmax of the model's outputs
    labels: np.ndarray | None  # (N,) int64 when the loader yields (x, y); else None


def _resolve_layer(model: torch.nn.Module, layer: torch.nn.Module | str | None
                   ) -> tuple[torch.nn.Module, str]:
    """The module whose input is the features, and a name for it in messages."""
    import torch

    named = list(model.named_modules())
    if layer is None:
        linear = [(name, m) for name, m in named if isinstance(m, torch.nn.Linear)]
        if not linear:
            raise UsageError("model has no torch.nn.Linear layer to take features from; pass "
                             "layer= (a module of the model, or a dotted name such as 'fc' or "
                             "'head.linear') whose input is the penultimate features")
        name, module = linear[-1]
        return module, name
    if isinstance(layer, str):
        try:
            return model.get_submodule(layer), layer
        except AttributeError:
            names = [name for name, _ in named if name]
            shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
            raise UsageError(f"model has no submodule named {layer!r}; its submodules are: "
                             f"{shown or '(none)'}") from None
    if isinstance(layer, torch.nn.Module):
        for name, m in named:
            if m is layer:
                return m, name or type(m).__name__
        raise UsageError(f"layer= is a {type(layer).__name__} that is not part of the model; "
                         "pass one of its submodules (or its dotted name)")
    raise UsageError(f"layer= must be a module of the model or a dotted name string, "
                     f"got {type(layer).__name__}")


def _check_device(model: torch.nn.Module, device: torch.device) -> None:
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    if first is None:
        return
    same = first.device.type == device.type and (
        device.index is None or first.device.index in (None, device.index))
    if not same:
        raise UsageError(f"the model is on {first.device} but device={str(device)!r}; move it "
                         f"first (model.to({str(device)!r})) or pass device={str(first.device)!r}")


def _split(batch: Any, has_labels: bool | None, index: int) -> tuple[Any, Any]:
    """(x, y) from an `x` or `(x, y)` batch; every batch must be of the same kind."""
    if isinstance(batch, tuple | list):
        if len(batch) != 2:
            raise UsageError(f"batch {index} is a {type(batch).__name__} of {len(batch)} items; "
                             "the loader must yield x or (x, y)")
        x, y = batch
    else:
        x, y = batch, None
    if has_labels is not None and has_labels != (y is not None):
        raise UsageError(f"batch {index} {'has' if y is not None else 'lacks'} labels but "
                         "earlier batches did not; yield x or (x, y) consistently")
    return x, y


def _labels(y: Any, size: int, index: int) -> np.ndarray:
    import torch

    try:
        t = torch.as_tensor(y)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise UsageError(f"labels of batch {index} are not integer class ids ({exc})") from exc
    if t.ndim != 1 or len(t) != size:
        hint = "; for one-hot labels yield y.argmax(1)" if t.ndim == 2 else ""
        raise UsageError(f"labels of batch {index} have shape {tuple(t.shape)}; expected "
                         f"({size},), one class id per sample{hint}")
    if t.is_complex() or (t.is_floating_point() and not bool((t == t.round()).all())):
        raise UsageError(f"labels of batch {index} must be integer class ids, got {t.dtype} "
                         "values that are not whole numbers")
    return t.to("cpu", torch.int64).numpy()


def extract(model: torch.nn.Module, loader: Any, *,
            layer: torch.nn.Module | str | None = None, device: str | torch.device = "cpu",
            progress: bool = True) -> Extracted:
    """Features (the input of `layer`) and softmax outputs of `model` over `loader`.

    `layer` defaults to the last `torch.nn.Linear` in `model.modules()` order, the usual
    classifier head, so the features are the penultimate activations, flattened per
    sample. The model runs in eval mode under `torch.inference_mode()`; each module's
    training flag is restored and the hook removed afterwards, even on error. The model
    must already be on `device`; batches are moved there.
    """
    import torch
    from tqdm import tqdm

    module, layer_name = _resolve_layer(model, layer)
    device = torch.device(device)
    _check_device(model, device)
    captured: list[torch.Tensor] = []

    def hook(_module: torch.nn.Module, args: tuple) -> None:
        if args and isinstance(args[0], torch.Tensor):
            captured.append(args[0])

    try:
        total = len(loader)
    except TypeError:
        total = None
    feats: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    has_labels: bool | None = None
    modes = [(m, m.training) for m in model.modules()]
    handle = module.register_forward_pre_hook(hook)
    try:
        model.eval()
        with torch.inference_mode():
            for i, batch in enumerate(tqdm(loader, total=total, desc="extract", unit="batch",
                                           disable=not progress, leave=False)):
                x, y = _split(batch, has_labels, i)
                has_labels = y is not None
                if not isinstance(x, torch.Tensor):
                    raise UsageError(f"batch {i}: x is a {type(x).__name__}, not a tensor")
                captured.clear()
                out = model(x.to(device))
                if not isinstance(out, torch.Tensor) or out.ndim != 2:
                    got = (f"shape {tuple(out.shape)}" if isinstance(out, torch.Tensor)
                           else f"a {type(out).__name__}")
                    raise UsageError(f"the model returned {got}; extract needs (batch, classes) "
                                     "logits: wrap the model so that it returns them")
                if len(captured) != 1:
                    raise UsageError(f"layer {layer_name!r} ran {len(captured)} times with a "
                                     "tensor input in one forward pass; pass layer= naming a "
                                     "module that runs exactly once per batch")
                f = captured.pop().reshape(len(out), -1)
                dtype = torch.float64 if f.dtype == torch.float64 else torch.float32
                feats.append(f.to("cpu", dtype).numpy())
                probs.append(torch.softmax(out.to("cpu", torch.float64), dim=1).numpy())
                if y is not None:
                    labels.append(_labels(y, len(out), i))
    finally:
        handle.remove()
        for m, mode in modes:
            m.training = mode
    if not feats:
        raise UsageError("the loader yielded no batches")
    return Extracted(features=np.concatenate(feats), probs=np.concatenate(probs),
                     labels=np.concatenate(labels) if has_labels else None)
