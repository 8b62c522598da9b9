# The two commands a newcomer needs: `make run` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: run test test-unit test-integration test-e2e test-containers bench prove distributed lint config clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dayofaction needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)  ## start the whole platform in one process on http://127.0.0.1:$${PORT:-8000}
	$(BIN)/doa run --demo

test: $(STAMP)  ## unit, integration and end-to-end tests
	$(BIN)/pytest tests --durations=25  # the slowest, so a slow change shows in CI

test-unit: $(STAMP)
	$(BIN)/pytest tests/unit

test-integration: $(STAMP)
	$(BIN)/pytest tests/integration

test-e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

# Not part of `make test`: tests/containers is collected only with DOA_TEST_CONTAINERS=1.
test-containers: $(STAMP)  ## mode 3 for real, with podman: build every image, start docker-compose.yml, the end-to-end path and faults through the gateway (docs/containers.md; root)
	DOA_TEST_CONTAINERS=1 $(BIN)/pytest tests/containers -s --timeout 3600

bench: $(STAMP)  ## speed, as ratios against baselines measured in the same run
	$(BIN)/python -m bench

prove: $(STAMP)  ## faults on the Procfile topology (private Redis): one table of accepted, delivered, lost, duplicated, p50/p99, recovery (var/prove/table.md)
	nice -n 10 $(BIN)/python -m bench.prove

distributed: $(STAMP)  ## mode 2: every service under gunicorn, the bus on Redis (see Procfile)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -e deploy/distributed.env

lint: $(STAMP)  ## static checks
	$(BIN)/ruff check shared services tests bench

config: $(STAMP)  ## print the configuration table
	$(BIN)/doa config

clean:
	rm -rf $(VENV) var .pytest_cache
