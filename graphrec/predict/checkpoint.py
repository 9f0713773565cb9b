"""Checkpoint state in a form `torch.load(weights_only=True)` reads fast.

Why: a predictor fitted on a big zoo keeps Python lists with one entry per dataset (names,
labels, which datasets had edges). Torch's safe unpickler rebuilds those one object at a
time, in Python: 11 s for a 100,000-dataset `auto` checkpoint, most of a cold start's time.
Large lists and dicts of plain values (str, int, float, bool, None, nested lists and
dicts) are therefore stored as one UTF-8 JSON byte tensor, which loads in a fraction of a
second and is still data only (no code runs on load). Values JSON would change (tuples,
numpy scalars, non-string keys) are left as they were.

`read` opens a checkpoint file (data only: `weights_only=True`), `as_array` hands the
arrays it holds (tensors) on as numpy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["as_array", "pack", "read", "unpack"]

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


def read(path: Path) -> Any:
    """What `torch.load` finds in `path`, data only; a ValueError saying what is wrong."""
    import pickle
    import zipfile

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower():  # the safe unpickler met code to run
            raise ValueError(f"{path}: holds Python objects that loading would have to run "
                             "as code, which graphrec refuses (a checkpoint graphrec writes "
                             "holds data only): it is not one of graphrec's, or was "
                             "tampered with") from None
        raise ValueError(f"{path}: not a torch checkpoint (unreadable: {exc})") from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, UnicodeDecodeError,
            KeyError, ValueError, AttributeError, TypeError, IndexError) as exc:
        first = str(exc).split(". ", 1)[0].strip()
        detail = (first if isinstance(exc, RuntimeError) and first
                  else f"{type(exc).__name__} {first}".strip())
        raise ValueError(f"{path}: not a readable torch checkpoint (truncated, or another "
                         f"kind of file: {detail})") from None


def as_array(value: Any) -> np.ndarray | Any:
    """Arrays come back from a checkpoint as tensors; hand them on as numpy (anything else
    as it is)."""
    if isinstance(value, torch.Tensor):
        return value.numpy()
    return value
