# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins its own boto3/packaging, older than ours: it lives in a separate tool venv.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
CHECKOV := checkov==3.3.30
# The linter of `make lint` (CI's lint job passes the one it installed: RUFF=ruff).
RUFF ?= $(BIN)/ruff

# The dbt manifest the code location loads, re-parsed whenever the dbt project changes.
MANIFEST := dbt_project/target/manifest.json
DBT_FILES := dbt_project/dbt_project.yml dbt_project/profiles.yml \
	$(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/snapshots dbt_project/tests -type f)

.PHONY: demo test dev docs lint install manifest tools clean

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

# Two workers, a test module per worker, so each module's expensive fixture is built once (xdist 3.8's
# loadgroup does not group under pytest 9.2, whose node ids it can no longer tag).
test: $(MANIFEST) $(TOOLS_STAMP)
	$(BIN)/python -m pytest tests -q -n 2 --dist loadfile

dev: $(MANIFEST)
	$(BIN)/foodbank dev

docs: $(MANIFEST)
	$(BIN)/foodbank docs

# ruff check and ruff format as configured in pyproject.toml; pre-commit runs the same on each commit.
lint:
	@test -x "$(RUFF)" || command -v "$(RUFF)" >/dev/null || $(MAKE) install
	$(RUFF) check .
	$(RUFF) format --check .

clean:
	rm -rf .foodbank dbt_project/target dbt_project/logs
