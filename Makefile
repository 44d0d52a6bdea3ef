# PilotGate: `make run` starts the bot on the embedded store; `make test` installs and runs everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
COSMOS_PORT ?= 8081
export COSMOS_PORT
export COSMOS_PIDFILE ?= /tmp/pilotgate-cosmos-$(COSMOS_PORT).pid
export COSMOS_LOG ?= /tmp/pilotgate-cosmos-$(COSMOS_PORT).log

.PHONY: run test lint typecheck unit install install-dev node-deps cosmos-start cosmos-stop package playground bench clean lock

$(VENV)/.stamp-runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements-dev.txt requirements.txt $(VENV)/.stamp-runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.stamp-runtime
install-dev: $(VENV)/.stamp-dev

tools/validators/node_modules/.stamp: tools/validators/package-lock.json
	cd tools/validators && npm ci --no-audit --no-fund --loglevel=error
	touch $@

tests/cosmos_server/node_modules/.stamp: tests/cosmos_server/package-lock.json
	cd tests/cosmos_server && npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-deps: tools/validators/node_modules/.stamp tests/cosmos_server/node_modules/.stamp

run: install
	$(PY) app.py

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

cosmos-start: tests/cosmos_server/node_modules/.stamp
	bash tests/cosmos_server/start-cosmos.sh

cosmos-stop:
	bash tests/cosmos_server/stop-cosmos.sh

# The whole suite: lint and types, then every test with the Cosmos test server running.
test: install-dev node-deps lint
	@$(MAKE) --no-print-directory cosmos-start
	@status=0; COSMOS_TEST_ENDPOINT=http://127.0.0.1:$(COSMOS_PORT)/ $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	  $(MAKE) --no-print-directory cosmos-stop; exit $$status

package: install
	$(PY) -m manifest.package

bench: install-dev node-deps
	@$(MAKE) --no-print-directory cosmos-start
	@status=0; COSMOS_TEST_ENDPOINT=http://127.0.0.1:$(COSMOS_PORT)/ $(PY) -m bench || status=$$?; \
	  $(MAKE) --no-print-directory cosmos-stop; exit $$status

lock:
	$(PYTHON) -m venv /tmp/pilotgate-lock && /tmp/pilotgate-lock/bin/pip freeze

clean:
	rm -rf $(VENV) build data tests/cosmos_server/node_modules tools/validators/node_modules
