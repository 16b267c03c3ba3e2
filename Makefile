# The README's two commands: `make run` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/waba run

test: $(VENV)/.installed
	$(BIN)/pytest -n 2

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_marts.py
