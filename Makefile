# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins its own boto3/packaging, older than ours: it lives in a separate tool venv.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
CHECKOV := checkov==3.3.30

.PHONY: demo test dev install tools clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,deploy]"
	touch $(STAMP)

install: $(STAMP)

$(TOOLS_STAMP):
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS) || python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "$(CHECKOV)"
	touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

demo: $(STAMP)
	$(BIN)/foodbank demo

test: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/python -m pytest tests -q

dev: $(STAMP)
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf .foodbank dbt_project/target dbt_project/logs
