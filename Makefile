# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test dev install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/foodbank demo

test: $(STAMP)
	$(BIN)/python -m pytest tests -q

dev: $(STAMP)
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf .foodbank dbt_project/target dbt_project/logs
