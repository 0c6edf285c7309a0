# VID Lab: `make lab` to open the course, `make test` to check everything.
# Everything installs into .venv; the vidlab command keeps Jupyter's own files in .jupyter/.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= classroom
PORT ?= 8888
INSTALLED := $(VENV)/.installed
# Tests also install reference tools (pdqhash builds from source, so it needs a C++ compiler);
# the course itself needs only Python.
TEST_INSTALLED := $(VENV)/.installed-test
PYTEST_WORKERS ?= 2
# JupyterHub's proxy, from the npm registry into the project (never global), for the classroom-server test.
HUB_PROXY := .node/node_modules/.bin/configurable-http-proxy

.PHONY: lab test data exercises bench clean venv lock hub-proxy fuzz

venv: $(INSTALLED)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "VID Lab needs Python 3.11 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e .
	touch $@

$(TEST_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $@

lab: $(INSTALLED)
	PORT=$(PORT) $(BIN)/vidlab lab --profile $(PROFILE) --port $(PORT)

hub-proxy: $(HUB_PROXY)

$(HUB_PROXY):
	npm install --prefix .node --no-audit --no-fund --save-exact configurable-http-proxy@4.6.3

test: $(TEST_INSTALLED) $(HUB_PROXY)
	$(BIN)/vidlab data generate --profile tiny
	VIDLAB_PROFILE=tiny $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

data: $(INSTALLED)
	$(BIN)/vidlab data generate --profile $(PROFILE)

exercises: $(INSTALLED)
	$(BIN)/vidlab course build
	$(BIN)/vidlab course schedule --write

bench: $(TEST_INSTALLED)
	@for b in benchmarks/bench_*.py; do [ -e "$$b" ] || continue; echo "== $$b"; $(BIN)/python "$$b" || exit 1; done

# Refresh the exact pins from a clean resolve of pyproject's ranges.
# Coverage-guided fuzzing of the metadata reader; not part of `make test`. atheris is installed only here.
FUZZ_SECONDS ?= 600
fuzz: $(TEST_INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check atheris
	$(BIN)/python fuzz/fuzz_metadata.py --write-seeds fuzz/corpus
	mkdir -p fuzz/crashes
	$(BIN)/python fuzz/fuzz_metadata.py fuzz/corpus -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=2048 -artifact_prefix=fuzz/crashes/

lock: | $(BIN)/python
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check '.[test]'
	.venv-lock/bin/python -m pip freeze --exclude vidlab --disable-pip-version-check > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .jupyter .pytest_cache build *.egg-info synthetic_data/output .node
	rm -rf grading/gradebook.db grading/submitted grading/autograded grading/feedback grading/exchange grading/released_solutions
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
