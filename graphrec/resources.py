"""Find the `cypher/` and `loaders/` folders, in a source checkout or in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder `name` ("cypher" or "loaders"): packaged copy first, then the checkout's."""
    for candidate in (_PKG / "_resources" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"graphrec's {name}/ folder is missing from this installation")
