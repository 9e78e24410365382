# AfterResume: `make run` sets everything up and runs web + worker; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export ADMIN_EMAIL ?= admin@afterresume.localhost
export ADMIN_PASSWORD ?= afterresume-demo

.PHONY: setup run test test-postgres lint check chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

setup: $(VENV)/.installed node_modules/.package-lock.json
	mkdir -p var/media

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bootstrap
	@code=$$($(BIN)/python manage.py create_invite --uses 5 --expires-in-days 30 --note "make run" 2>/dev/null | tail -n 1); \
	echo; echo "  AfterResume is starting on http://localhost:$(PORT)/"; \
	echo "  Demo admin: $(ADMIN_EMAIL) / $(ADMIN_PASSWORD)"; \
	echo "  Invite code for a new account: $$code"; \
	echo "  (Emails, such as sign-up confirmation codes, are printed in this terminal.)"; echo
	@trap 'kill 0' EXIT INT TERM; \
	$(BIN)/python manage.py qcluster & \
	$(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } \
	  || { echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; }

test: setup chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres:
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/afterresume} $(MAKE) test

lint: setup
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  ALLOWED_HOSTS=afterresume.example $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) node_modules staticfiles var
