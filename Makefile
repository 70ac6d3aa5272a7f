# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins its own boto3/packaging, older than ours: it lives in a separate tool venv.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
CHECKOV := checkov==3.3.30
# The linters of `make lint` (CI's lint job passes the ones it installed: RUFF=ruff SQLFLUFF=sqlfluff).
RUFF ?= $(BIN)/ruff
SQLFLUFF ?= $(BIN)/sqlfluff
# The SQL sqlfluff lints (dbt_project/.sqlfluff; target/ and logs/ are dbt's output, not ours).
SQL_PATHS := dbt_project/models dbt_project/macros dbt_project/snapshots dbt_project/tests

# The dbt manifest the code location loads, re-parsed whenever the dbt project changes.
MANIFEST := dbt_project/target/manifest.json
DBT_FILES := dbt_project/dbt_project.yml dbt_project/profiles.yml \
	$(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/snapshots dbt_project/tests -type f)

.PHONY: demo demo-snowflake test dev docs lint install manifest tools clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@echo "installing the project into $(VENV) (once, and again when pyproject.toml changes)"
	$(BIN)/pip install --quiet --quiet --upgrade pip
	$(BIN)/pip install --quiet --quiet -e ".[test,deploy]"
	touch $(STAMP)

install: $(STAMP)

$(MANIFEST): $(STAMP) $(DBT_FILES)
	$(BIN)/foodbank manifest

manifest: $(MANIFEST)

$(TOOLS_STAMP):
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS) || python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "$(CHECKOV)"
	touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

demo: $(MANIFEST)
	$(BIN)/foodbank demo

# The demo through the local stand-ins (`foodbank services`: S3 API, Snowflake emulator, SFTP) in a
# FOODBANK_HOME of its own: start them, source the env file they write, run the demo, stop them.
DEMO_SNOWFLAKE_HOME := $(abspath .foodbank/snowflake)
demo-snowflake: $(MANIFEST)
	@export FOODBANK_HOME=$(DEMO_SNOWFLAKE_HOME); env_file=$$FOODBANK_HOME/services.env; \
	mkdir -p $$FOODBANK_HOME; rm -f $$env_file; \
	$(BIN)/foodbank services --env-file $$env_file > $$FOODBANK_HOME/services.log 2>&1 & pid=$$!; \
	trap 'kill -TERM $$pid 2>/dev/null; wait $$pid; exit 1' INT TERM; \
	for i in $$(seq 1 180); do test -f $$env_file && break; kill -0 $$pid 2>/dev/null || break; sleep 1; done; \
	if ! test -f $$env_file; then cat $$FOODBANK_HOME/services.log; kill -TERM $$pid 2>/dev/null; exit 1; fi; \
	cat $$FOODBANK_HOME/services.log; . $$env_file; \
	$(BIN)/foodbank demo; rc=$$?; \
	kill -TERM $$pid; wait $$pid; exit $$rc

# Two workers, a test module per worker, so each module's expensive fixture is built once (xdist 3.8's
# loadgroup does not group under pytest 9.2, whose node ids it can no longer tag).
test: $(MANIFEST) $(TOOLS_STAMP)
	$(BIN)/python -m pytest tests -q -n 2 --dist loadfile

dev: $(MANIFEST)
	$(BIN)/foodbank dev

docs: $(MANIFEST)
	$(BIN)/foodbank docs

# ruff check and ruff format as configured in pyproject.toml, sqlfluff on the dbt project's SQL as
# configured in dbt_project/.sqlfluff; pre-commit runs the same on each commit. sqlfluff in one process:
# its worker pool (--processes 0) hung beside a test run on two cores (lint test timeouts, 2026-12-07).
lint:
	@test -x "$(RUFF)" || command -v "$(RUFF)" >/dev/null || $(MAKE) install
	@test -x "$(SQLFLUFF)" || command -v "$(SQLFLUFF)" >/dev/null || $(MAKE) install
	$(RUFF) check .
	$(RUFF) format --check .
	$(SQLFLUFF) lint --processes 1 $(SQL_PATHS)

clean:
	rm -rf .foodbank dbt_project/target dbt_project/logs
