# The two commands a new user (and CI) runs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mesh build
	$(BIN)/mesh catalog --out site/

# datacontract-cli and dataproduct-cli, the tools users lint and test the ODCS/ODPS exports with, in their own
# virtualenv: datacontract-cli pins duckdb<1.6 (ours is 2.0). Pinned, so the suite tests what users install.
CONTRACTS_VENV ?= .venv-contracts
CONTRACTS_STAMP := $(CONTRACTS_VENV)/.installed

$(CONTRACTS_STAMP):
	$(PYTHON) -m venv $(CONTRACTS_VENV)
	$(CONTRACTS_VENV)/bin/python -m pip install --quiet 'datacontract-cli[duckdb]==1.2.8' 'dataproduct-cli==0.3.2'
	touch $(CONTRACTS_STAMP)

# The suite's tests mostly wait on dbt worker processes: two pytest workers keep both cores busy, a worker with
# nothing left taking tests queued on the other (`--dist worksteal`: with `load`, one worker once ran the last eight
# minutes alone). The 25 slowest tests are listed at the end, so that a CI run shows where its minutes went.
# tests/test_contract_tools.py runs the ecosystem's own CLIs on the exports, from the virtualenv above;
# tests/test_airflow.py runs Airflow from its own, below.
test: $(STAMP) $(CONTRACTS_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	CONTRACT_TOOLS_BIN=$(abspath $(CONTRACTS_VENV))/bin AIRFLOW_PYTHON=$(AIRFLOW_PYTHON) $(BIN)/pytest -q -n 2 --dist worksteal --durations=25

# Airflow 3 and Cosmos (per-model task groups) in their own virtualenv (Airflow and dbt pin conflicting packages),
# from the committed constraints (Airflow's constraint files live outside the package registries); about 50 s and
# 320 MB from scratch.
# tests/test_airflow.py runs the example mesh through it in both modes, in `make test`; `make test-airflow` runs
# only that file.
AIRFLOW_VENV ?= .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
AIRFLOW_PYTHON := $(abspath $(AIRFLOW_VENV))/bin/python
.PHONY: test-airflow
test: $(AIRFLOW_STAMP)

$(AIRFLOW_STAMP): constraints/airflow.txt
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet 'apache-airflow==3.3.2' 'astronomer-cosmos==1.15.1' \
	    psycopg2-binary asyncpg -c constraints/airflow.txt
	touch $(AIRFLOW_STAMP)

test-airflow: $(STAMP) $(AIRFLOW_STAMP)
	AIRFLOW_PYTHON=$(AIRFLOW_PYTHON) $(BIN)/pytest -q -n 2 --dist worksteal tests/test_airflow.py

# The floor of the supported dbt range (constraints/floor.txt) in its own virtualenv: the example mesh built in a
# copy and the package's integration tests at the floor the range declares, dbt-common and dbt-adapters at the
# oldest installable with it (about 2.5 minutes).
FLOOR_VENV ?= .venv-floor
FLOOR_STAMP := $(FLOOR_VENV)/.installed
.PHONY: test-floor

$(FLOOR_STAMP): pyproject.toml constraints/floor.txt
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOOR_VENV)/bin/python -m pip install --quiet -e . pytest -c constraints/floor.txt
	touch $(FLOOR_STAMP)

test-floor: $(FLOOR_STAMP)
	floor=$$(mktemp -d) && $(FLOOR_VENV)/bin/python -m testkit.mesh_copy $$floor && \
	(cd $$floor && $(abspath $(FLOOR_VENV))/bin/mesh build) && rm -rf $$floor
	$(FLOOR_VENV)/bin/python -m pytest -q -p no:cacheprovider --noconftest tests/test_integration_tests.py \
	    tests/test_dbt_patches.py

lint: $(STAMP)
	$(BIN)/ruff check .

# `make bench`: every benchmark of bench/ (about 15 minutes on 2 cores); writes bench/results/latest.json and
# the table in docs/benchmarks.md. dbt-loom, the peer of the ref-resolution benchmark, is installed only in its
# own virtualenv with the same dbt versions: dbt would discover its plugin in the main one.
BENCH_VENV ?= .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
.PHONY: bench

$(BENCH_STAMP): $(STAMP)
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BIN)/python -m pip freeze | grep -iE '^(dbt-|duckdb)' | grep -iv '^dbt-data-mesh' > $(BENCH_VENV)/constraints.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet dbt-loom==0.9.6 dbt-core dbt-duckdb -c $(BENCH_VENV)/constraints.txt
	touch $(BENCH_STAMP)

bench: $(STAMP) $(BENCH_STAMP) $(AIRFLOW_STAMP)
	$(BIN)/python -m bench.run --loom-python $(BENCH_VENV)/bin/python --airflow-python $(AIRFLOW_VENV)/bin/python

clean:
	rm -rf .mesh/state .mesh/contract-tests .mesh/duckdb/*.duckdb* domains/*/target domains/*/dbt_packages domains/*/logs
