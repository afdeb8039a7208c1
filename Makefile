# The human entry points. Every target sets up what it needs first; `make setup` is quick when
# nothing changed.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)
	@scripts/setup-system.sh
	@scripts/setup-dashboard.sh

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/codegenapp demo

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy bench  # benchmarks import the code they measure: drift must not break them
	$(VENV)/bin/lint-imports
	scripts/generate-api-types --check
	cd frontend && node_modules/.bin/tsc --noEmit

test: lint
	@scripts/setup-docker.sh  # the Docker sandbox suite starts its own dockerd (TESTING.md)
	cd frontend && node_modules/.bin/vitest run
	CI=$${CI:-} $(VENV)/bin/pytest -n 2 --dist loadgroup  # two workers; Docker's tests in one

bench: setup
	$(PY) bench/validation_overhead.py
	$(PY) bench/dashboard.py
	$(PY) bench/masking.py
	$(PY) bench/abuse.py
	$(PY) bench/snapshot.py
	$(PY) bench/cache.py
	$(PY) bench/webhooks.py
	$(PY) bench/github_delivery.py
	$(PY) bench/web_eval.py

clean:
	rm -rf $(VENV) .codegenapp .pytest_cache .mypy_cache .ruff_cache frontend/node_modules \
		src/codegenapp/ui/dist test-artifacts
