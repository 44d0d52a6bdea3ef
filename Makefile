# PilotGate: `make run` starts the bot on the embedded store; `make test` installs and runs everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
COSMOS_PORT ?= 8081
export COSMOS_PORT
export COSMOS_PIDFILE ?= /tmp/pilotgate-cosmos-$(COSMOS_PORT).pid
export COSMOS_LOG ?= /tmp/pilotgate-cosmos-$(COSMOS_PORT).log

.PHONY: run test lint typecheck unit install install-dev node-deps e2e-deps cosmos-start cosmos-stop package playground bench clean lock

$(VENV)/.stamp-runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements-dev.txt requirements.txt $(VENV)/.stamp-runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps $$(sed -n 's/^# no-deps: //p' requirements-dev.txt)
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

# The Agents Playground and playwright-core, pinned in tools/playground/package-lock.json (from npm's cache once fetched).
tools/playground/node_modules/.stamp: tools/playground/package-lock.json
	cd tools/playground && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	touch $@

# What the browser tests (tests/e2e) need: Debian's chromium (installed as root when missing) and the npm packages.
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH
e2e-deps: tools/playground/node_modules/.stamp
	@test -x $(CHROMIUM_PATH) || { echo "Installing Debian's chromium for the browser tests (about 45 s)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	  { echo "could not install chromium: run 'apt-get update && apt-get install -y chromium' as root" >&2; exit 1; }; }

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

# The whole suite: lint and types, then every test with the Cosmos test server running, including the browser
# tests (tests/e2e: the bot, the Agents Playground and headless chromium; PYTEST_ARGS='-m "not e2e"' leaves them out).
test: install-dev node-deps e2e-deps lint
	@$(MAKE) --no-print-directory cosmos-start
	@status=0; COSMOS_TEST_ENDPOINT=http://127.0.0.1:$(COSMOS_PORT)/ $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	  $(MAKE) --no-print-directory cosmos-stop; exit $$status

package: install
	$(PY) -m manifest.package

# The bot and the Microsoft 365 Agents Playground (a local Teams client); prints the URL to open; Ctrl-C stops both.
playground: install tools/playground/node_modules/.stamp
	@bash tools/playground/run.sh

bench: install-dev node-deps
	@$(MAKE) --no-print-directory cosmos-start
	@status=0; COSMOS_TEST_ENDPOINT=http://127.0.0.1:$(COSMOS_PORT)/ $(PY) -m bench || status=$$?; \
	  $(MAKE) --no-print-directory cosmos-stop; exit $$status

lock:
	$(PYTHON) -m venv /tmp/pilotgate-lock && /tmp/pilotgate-lock/bin/pip freeze

clean:
	rm -rf $(VENV) build data tests/cosmos_server/node_modules tools/validators/node_modules
