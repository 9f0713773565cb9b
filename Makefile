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
# Neo4j's Cypher front end for `make cypher-lint`, installed by npm from the lock file.
NPM_STAMP := cypher-lint/node_modules/.package-lock.json

.PHONY: demo test lint cypher-lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/graphrec demo

$(NPM_STAMP): cypher-lint/package.json cypher-lint/package-lock.json
	npm ci --prefix cypher-lint --no-audit --no-fund --loglevel=error >/dev/null
	touch $(NPM_STAMP)

# Every query graphrec sends to Neo4j, checked by Neo4j's own parser and semantic analysis.
cypher-lint: $(STAMP) $(NPM_STAMP)
	$(BIN)/python cypher-lint/collect.py | node cypher-lint/lint.mjs

test: $(STAMP) cypher-lint
	$(BIN)/ruff check .
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache cypher-lint/node_modules
