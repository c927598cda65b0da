# 执法全过程记录档案系统 — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OPENAI_STAMP := $(VENV)/.installed-openai
OPENAI_WHISPER := openai-whisper==20250625
export ARCHIVE_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test install install-openai lint typecheck pytest bench mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==25.3"

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/archive models install
	touch $(STAMP)

install: $(STAMP)

## install-openai: the reference speech engine (PyTorch, CPU) and its checkpoint, built from the
## bundled weights; the tests and bench/asr.py compare it with the default engine
$(OPENAI_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,openai]"
	$(BIN)/pip install --quiet --no-deps "$(OPENAI_WHISPER)"
	$(BIN)/archive models build-openai-checkpoint
	touch $(OPENAI_STAMP)

install-openai: $(OPENAI_STAMP)

## run: install, initialise the embedded default, load the demo case, serve on 127.0.0.1:8000
run: install
	$(BIN)/archive init
	$(BIN)/archive demo
	$(BIN)/archive serve

## test: install, then ruff, mypy and pytest
test: install install-openai lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/ingest.py

## mutation: can the tests fail? mutmut on the access, audit, PII, redaction, rules and calendar
## modules with the tests that cover them (on demand only: not in CI nor in `make test`)
MUTATION_STAMP := $(VENV)/.installed-mutation
$(MUTATION_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,mutation]"
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(BIN)/python bench/mutation.py $(MUTATION_ARGS)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
