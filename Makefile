# jitflow developer entry points. Every target installs into .venv first when it is missing or
# older than pyproject.toml, so `make run` and `make test` work on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format bench bench-quick bench-smoke chaos clean

install: $(STAMP)

# pip's output goes to .venv/install.log; pip_progress.py shows one line that follows it, so the
# minute a first install takes never looks like a hang.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing jitflow and its dependencies into $(VENV) (about a minute the first time):"
	@$(BIN)/python jitflow/devstack/pip_progress.py $(VENV)/install.log install --upgrade pip
	@$(BIN)/python jitflow/devstack/pip_progress.py $(VENV)/install.log install -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/jitflow dev

test: $(STAMP)
	$(BIN)/python -m pytest --durations=15 $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; exit 1; fi; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks (bench/README.md). Each run writes its own configuration from examples/aptible and
# starts its own stack in a temporary folder: nothing has to be generated first.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

# A few grants through every phase, well under a minute (CI runs it): fails when the run had
# errors, never on speed. Writes bench/results-smoke.json (git-ignored).
bench-smoke: $(STAMP)
	$(BIN)/python -m bench.run --smoke $(BENCH_ARGS)

# Grants while the emulator fails calls, the worker is SIGKILLed every K seconds and the dev
# server restarts once (bench/chaos.py): prints the counts, writes bench/chaos-results.json.
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) .jitflow .pytest_cache .mypy_cache .ruff_cache
