# The two commands: `make up` runs the embedded stack, `make test` runs every check.
# Both create .venv and install the project on first use; only python3 (3.11+) is needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-threadgate

.PHONY: up test lint bench soak fuzz install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Threadgate needs Python 3.11+; set PYTHON=python3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/python -m tools.launcher

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Benchmarks (not tests): gateway vs a floor pass-through and direct langgraph-sdk calls,
# from one run; CPU per request into bench/results/cpu-latest.json; two gateway replicas
# under 1,000 follow-ups at once (bench.replicas: exits 1 if a run overlapped or went uncounted).
bench: $(STAMP)
	$(BIN)/python -m bench.cpu latest
	$(BIN)/python -m bench.reads
	$(BIN)/python -m bench.execute
	$(BIN)/python -m bench.streams
	$(BIN)/python -m bench.concurrency
	$(BIN)/python -m bench.replicas

# Every Schemathesis check in every phase (examples, coverage, fuzzing, stateful links) at a
# fixed seed; opt-in while it does not pass (tests/integration/test_fuzz_all_checks.py).
fuzz: $(STAMP)
	THREADGATE_FUZZ_ALL_CHECKS=1 $(BIN)/pytest -q -o log_cli=true tests/integration/test_fuzz_all_checks.py

# Reliability (not a test): workflows through 100 Agent Server and 100 gateway restarts.
soak: $(STAMP)
	$(BIN)/python -m tools.soak

clean:
	rm -rf $(VENV) .langgraph_api .pytest_cache .mypy_cache .ruff_cache
