# Quick start: `make demo` serves the bundled records; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench-provider bench-harvest clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# byte-compile our own modules as pip does for installed ones: an editable install with
	# PYTHONDONTWRITEBYTECODE set would otherwise compile them at every command's start
	$(BIN)/python -m compileall -q oai harvester > /dev/null
	touch $(STAMP)

## demo: load fixtures/ into var/demo.sqlite and serve http://127.0.0.1:8000/oai
demo: $(STAMP)
	OAI_CONFIG=etc/demo.toml $(BIN)/oai init
	OAI_CONFIG=etc/demo.toml $(BIN)/oai load fixtures/
	OAI_CONFIG=etc/demo.toml $(BIN)/oai serve

## test: the whole suite (PostgreSQL tests skip when no server answers, unless OAI_REQUIRE_POSTGRES=1)
test: $(STAMP)
	$(BIN)/python -m pytest

## lint: ruff and mypy
lint: $(STAMP)
	$(BIN)/ruff check oai harvester tests $(wildcard bench)
	$(BIN)/mypy

bench-provider: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/provider.py

bench-harvest: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/harvest.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
