"""The notebooks run top to bottom, so they cannot rot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import DOMAINNET, REPO, skip_without_domainnet

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    if path.stem == "reproduce_paper":
        skip_without_domainnet()
        monkeypatch.setenv("GRAPHREC_DOMAINNET", str(DOMAINNET))

    nb = nbformat.read(path, as_version=4)
    # The kernel inherits this process's environment: its GRAPHREC_HOME is the test's own.
    assert os.environ["GRAPHREC_HOME"]
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
