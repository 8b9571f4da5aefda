# datasteward: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
BENCH  ?= .venv-bench

.PHONY: install test demo lint typecheck bench-env bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $@

install: $(VENV)/.installed  ## create .venv and install datasteward with its dev tools

test: install  ## run the whole test suite (what CI runs)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: install  ## build the news dataset end to end from real data
	PATH="$(abspath $(BIN)):$$PATH" bash scripts/demo.sh

lint: install
	$(BIN)/ruff check src tests benchmarks

typecheck: install
	$(BIN)/mypy

$(BENCH)/.installed: benchmarks/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(BENCH)/bin/uv pip install --quiet --python $(BENCH)/bin/python -e . -r benchmarks/requirements.txt
	touch $@

bench-env: $(BENCH)/.installed  ## the benchmarks' own environment, with the peers they compare with

bench: bench-env  ## run every benchmark (slow: minutes)
	for b in benchmarks/*.py; do $(BENCH)/bin/python $$b || exit 1; done

clean:
	rm -rf demo .pytest_cache .mypy_cache .ruff_cache
