# Two entry points (see README): `make audit` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Debian packages the tests and benchmarks use; fetched once into ~/.cache/cocoscope.
DEBIAN_PACKAGES = linux-source-6.12 linux-config-6.12 linux-image-cloud-amd64 ovmf

.PHONY: audit test lint typecheck unit fetch bench clean

# `make audit` needs only the runtime dependencies; the test tools come with the test targets.
$(BIN)/cocoscope: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

TEST_DEPS = $(VENV)/.test-deps
$(TEST_DEPS): $(BIN)/cocoscope pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

# Exit 1 means "findings at or above --fail-on": the audit ran and the report is printed, so it
# is not a make failure. Any other non-zero exit (bad input, internal error) still is.
audit: $(BIN)/cocoscope
	@$(BIN)/cocoscope audit || { rc=$$?; [ $$rc -eq 1 ] || exit $$rc; }

fetch:
	$(PYTHON) scripts/fetch_debian.py $(DEBIAN_PACKAGES)

lint: $(TEST_DEPS)
	$(BIN)/ruff check src tests benchmarks scripts

typecheck: $(TEST_DEPS)
	$(BIN)/mypy

unit: $(TEST_DEPS)
	$(BIN)/pytest

test: $(TEST_DEPS) fetch lint typecheck unit

bench: $(TEST_DEPS) fetch
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
