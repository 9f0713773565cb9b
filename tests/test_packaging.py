"""The wheel carries cypher/ and loaders/, and an installed graphrec finds them there."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import REPO


def test_wheel_ships_queries_and_loaders(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), str(REPO)],
                   check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("graphrec-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for source in [*REPO.glob("cypher/**/*.cypher"), *REPO.glob("loaders/*.toml")]:
        packaged = "graphrec/_resources/" + source.relative_to(REPO).as_posix()
        assert packaged in names, f"{packaged} is missing from the wheel"

    # Unpacked away from the checkout, graphrec must use its packaged copies.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = ("import graphrec.queries as q, graphrec.loaders as l;"
             "print(q.get('top-models').path); print(l.builtin_specs()['domainnet'])")
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert all(line.startswith(str(site / "graphrec" / "_resources")) for line in out), out
