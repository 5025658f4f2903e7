# The project's commands. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TRIALPANORAMA_HOME ?= $(CURDIR)/.trialpanorama
export DAGSTER_HOME ?= $(TRIALPANORAMA_HOME)/dagster
export HF_HUB_OFFLINE ?= 1
export HF_HUB_DISABLE_TELEMETRY ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: install run test ui bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	# torch first, on its own: the pinned CPU build (an unpinned one would pull the CUDA stack)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,train]'
	touch $(STAMP)

run: install
	$(BIN)/trialpanorama run

test: install
	$(BIN)/python -m pytest -q

ui: install
	$(BIN)/trialpanorama ui --host 127.0.0.1 --port 3000

bench: install
	$(BIN)/python benchmarks/bench_load.py

clean:
	rm -rf $(VENV) .trialpanorama .pytest_cache
