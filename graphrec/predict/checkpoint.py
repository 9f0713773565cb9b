"""Checkpoint state in a form `torch.load(weights_only=True)` reads fast.

Why: a predictor fitted on a big zoo keeps Python lists with one entry per dataset (names,
labels, which datasets had edges). Torch's safe unpickler rebuilds those one object at a
time, in Python: 11 s for a 100,000-dataset `auto` checkpoint, most of a cold start's time.
Large lists and dicts of plain values (str, int, float, bool, None, nested lists and
dicts) are therefore stored as one UTF-8 JSON byte tensor, which loads in a fraction of a
second and is still data only (no code runs on load). Values JSON would change (tuples,
numpy scalars, non-string keys) are left as they were.
"""

from __future__ import annotations

import json
from typing import Any

import torch

__all__ = ["pack", "unpack"]

_KEY = "__graphrec_json__"
_MIN_ITEMS = 256  # small containers are cheap either way


def pack(value: Any) -> Any:
    """`value` with every large JSON-exact list or dict inside it as a JSON tensor."""
    if isinstance(value, dict):
        if len(value) >= _MIN_ITEMS and (packed := _as_json(value)) is not None:
            return packed
        return {k: pack(v) for k, v in value.items()}
    if isinstance(value, list) and len(value) >= _MIN_ITEMS:
        packed = _as_json(value)
        return packed if packed is not None else [pack(v) for v in value]
    return value


def unpack(value: Any) -> Any:
    """The inverse of `pack`."""
    if isinstance(value, dict):
        if set(value) == {_KEY} and isinstance(value[_KEY], torch.Tensor):
            return json.loads(bytes(value[_KEY].numpy()).decode())
        return {k: unpack(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unpack(v) for v in value]
    return value


def _as_json(value: Any) -> dict[str, torch.Tensor] | None:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        return None
    if json.loads(text) != value:  # a tuple, a non-string key...: not exact, keep as is
        return None
    data = bytearray(text.encode())
    return {_KEY: torch.frombuffer(data, dtype=torch.uint8).clone() if data else
            torch.zeros(0, dtype=torch.uint8)}
