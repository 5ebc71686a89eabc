# Connect: `make run` brings up the whole marketplace, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup setup-dev assets messages system-packages check-services lint format bench-directory bench-redirect bench-pipeline bench-dashboards bench-load

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/activate
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/activate
	$(PIP) install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed

# Debian packages the project needs: gettext (msgfmt, to compile the translation catalogs)
# and, for the browser tests, Chromium.
system-packages:
	@command -v msgfmt >/dev/null || { echo "Installing gettext from Debian's packages"; \
		(apt-get update -qq && apt-get install -y -qq gettext >/dev/null); }

messages: system-packages $(VENV)/.installed
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

setup: $(VENV)/.installed assets messages

setup-dev: $(VENV)/.installed-dev assets messages
	@test -x /usr/bin/chromium || { echo "Installing Chromium from Debian's packages"; \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null); }

run: setup
	$(PY) scripts/run.py

check-services: $(VENV)/.installed-dev
	$(PY) scripts/check_services.py

test: setup-dev check-services
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n 2 --dist loadgroup

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench-directory: setup-dev
	$(PY) benchmarks/bench_directory.py

bench-redirect: setup-dev
	@command -v wrk >/dev/null || { echo "Installing wrk from Debian's packages"; \
		(apt-get update -qq && apt-get install -y -qq wrk >/dev/null); }
	$(PY) benchmarks/bench_redirect.py

# Order events posted through the API and processed by the workers, against a COPY floor.
EVENTS ?= 1000000
bench-pipeline: setup-dev
	$(PY) benchmarks/bench_pipeline.py --events $(EVENTS)

# The creator and brand dashboards and the commissions API on 1,000,000 commissions.
bench-dashboards: setup-dev
	$(PY) benchmarks/bench_dashboards.py

# A mixed load for 60 s at fixed rates on the production server with its workers running.
bench-load: setup-dev
	$(PY) benchmarks/bench_load.py
