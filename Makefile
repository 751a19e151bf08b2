# backcare: two commands do all the set-up on a fresh machine.
#   make lab   - create .venv, install, fill a demo store if none, start JupyterLab
#   make test  - create or update .venv and run the whole suite (ruff, mypy, pytest, nbval), including
#                tests/test_wheel.py: the built wheel run from a fresh environment outside the checkout
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STORE  := data/backcare.db
# The demo's own patient for the app (which never lists patients): `make app PATIENT=demo-0007`
PATIENT ?= demo-0001

.PHONY: lab app test lint format bench bench-large demo notebooks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# npm packages (package-lock.json): axe-core for the accessibility tests, configurable-http-proxy
# for `backcare hub`, plotly.js's cartesian bundle for reports. Installed locally, never fetched
# at run time.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# plotly.js's cartesian bundle (and its MIT licence) copied into the package, git-ignored, so that
# reports embed it (backcare/reports/plotlyjs.py) and a wheel built from this folder ships it.
PLOTLY_CARTESIAN := backcare/static/plotly-cartesian.min.js
$(PLOTLY_CARTESIAN): $(NODE_STAMP)
	mkdir -p backcare/static
	cp node_modules/plotly.js-cartesian-dist-min/plotly-cartesian.min.js $@
	cp node_modules/plotly.js-cartesian-dist-min/LICENSE backcare/static/plotly.js-LICENSE.txt

$(STORE): | $(STAMP)
	mkdir -p data && chmod 700 data
	$(BIN)/backcare demo --patients 20 --days 120 --db sqlite:///$(STORE)

lab: $(STAMP) $(NODE_STAMP) $(PLOTLY_CARTESIAN) $(STORE)
	@echo "backcare: the app for the demo's patient $(PATIENT): make app (or $(BIN)/backcare app --patient $(PATIENT))"
	$(BIN)/backcare lab

app: $(STAMP) $(NODE_STAMP) $(PLOTLY_CARTESIAN) $(STORE)
	$(BIN)/backcare app --patient $(PATIENT)

demo: $(STAMP)
	mkdir -p data && chmod 700 data
	$(BIN)/backcare demo --patients 20 --days 120

# The package ships copies of notebooks/ (backcare/notebooks/: what backcare app, report and lab
# use when installed); run this after changing a notebook. tests/test_resources.py checks it.
notebooks:
	cp notebooks/*.ipynb backcare/notebooks/

LINT_PATHS := backcare tests conftest.py $(wildcard benchmarks)

# ruff (every rule of pyproject, long lines included), the formatter's check, then mypy (strict
# on domain, store, analysis and services; see [tool.mypy] in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy backcare

format: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)

test: $(STAMP) $(NODE_STAMP) $(PLOTLY_CARTESIAN) lint
	$(BIN)/python -m pytest --nbval-lax --durations=10 tests notebooks

bench: $(STAMP) $(NODE_STAMP) $(PLOTLY_CARTESIAN)
	$(BIN)/python benchmarks/run.py

# The clinic overview against DuckDB and the store's bytes per patient-year at 10,000 patients
# x 365 days (sections 3 and 10 of bench). The first run builds a store of about 2.7 GB
# (estimated) and its Parquet copy in benchmarks/.cache (BENCH_CACHE): see docs/performance.md
# for how long that takes (about 15 minutes, estimated).
bench-large: $(STAMP)
	$(BIN)/python benchmarks/run.py --large

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
