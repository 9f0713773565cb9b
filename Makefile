# The two set-up commands of README.md: `make demo` (the main job) and `make test`.
# Both create .venv and install graphrec into it first, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV ?= .venv
# PyTorch first, pinned: on this project's machines torch==2.13.0 is a CPU build on local
# disk, where an unpinned torch would pull a multi-GB CUDA build. On your own machine, set
# TORCH to the build you want (for example a CPU-only wheel from PyTorch's own index).
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.graphrec-installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/graphrec demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
