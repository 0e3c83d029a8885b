# SmaRTC: `make run` serves the platform on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_WORKERS ?= 2

.PHONY: run test bench worker lint messages migrate demo clean

# Installs a Debian package when a check fails: as root with apt-get, otherwise it names the
# package and stops. $(1) is a shell test, $(2) the package.
define need
	@if ! ( $(1) ) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing the Debian package '$(2)'..."; \
	    apt-get install -y -q $(2) >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q $(2) >/dev/null; }; \
	  else echo "Missing: install the Debian package '$(2)' (sudo apt-get install $(2))." >&2; exit 1; fi; \
	fi
endef

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.dev-installed: requirements/base.txt requirements/lint.txt requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements/dev.txt
	@touch $@

$(VENV)/.test-installed: requirements/base.txt requirements/prod.txt requirements/ml.txt requirements/lint.txt requirements/test.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements/test.txt
	@touch $@

# Third-party browser libraries (wavesurfer.js, hls.js, Turbo) and ESLint, exactly as package-lock.json pins them.
node_modules/.installed: package.json package-lock.json
	$(call need,command -v npm,npm)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# make lint runs ESLint from there too.
lint: node_modules/.installed

messages:
	$(call need,command -v msgfmt,gettext)
	@$(BIN)/python manage.py compilemessages -v0 --ignore=$(VENV)

migrate:
	$(BIN)/python manage.py migrate --noinput -v1

demo:
	$(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT)
	$(BIN)/python manage.py seed_demo_tracks
	$(BIN)/python manage.py seed_demo_bot --base-url http://$(HOST):$(PORT)

## run: set up and serve the whole platform with daphne at http://$(HOST):$(PORT)
## (DEBUG off, so --insecure has runserver serve the static files)
run: $(VENV)/.dev-installed node_modules/.installed
	@$(MAKE) --no-print-directory messages migrate demo
	@$(BIN)/python manage.py vapid_keys
	$(BIN)/python manage.py runserver --insecure $(HOST):$(PORT)

## worker: a Celery worker for all queues (needed only when REDIS_URL is set)
worker: $(VENV)/.dev-installed
	$(BIN)/celery -A celery_app worker -Q default,media,moderation -l info

## test: set up and run the whole suite on real PostgreSQL, Redis and Chromium, in TEST_WORKERS
## processes (2; much of the suite waits on servers and browsers), each taking a whole file at a time
test: $(VENV)/.test-installed node_modules/.installed
	$(call need,[ -n "$$DATABASE_URL" ] || ls /usr/lib/postgresql/*/bin/initdb,postgresql)
	$(call need,[ -n "$$REDIS_URL" ] || command -v redis-server,redis-server)
	$(call need,[ -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ],chromium)
	$(call need,command -v turnserver,coturn)
	$(call need,command -v janus,janus)
	@$(MAKE) --no-print-directory messages
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

## bench: the benchmark suite at a small size (under 15 minutes on 2 cores), beside its baselines;
## writes bench-results/bench.json and bench-results/bench.md (full-size runs: docs/benchmarks.md)
bench: $(VENV)/.test-installed
	$(BIN)/python -m tests.bench.suite --out bench-results

## lint: every static check; each is one line of this recipe, so a new check is one more line
lint: $(VENV)/.dev-installed
	node_modules/.bin/eslint --max-warnings=0 static/js eslint.config.js
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules db.sqlite3 .vapid.env media staticfiles .test-media test-results bench-results
	find . -name '*.mo' -path '*/locale/*' -delete
