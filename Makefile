# AfterResume: `make run` sets everything up and runs web + worker; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export ADMIN_EMAIL ?= admin@afterresume.localhost
export ADMIN_PASSWORD ?= afterresume-demo

.PHONY: setup setup-test run test test-postgres lint check chromium pdf-libs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip

# Running the app needs only the package itself; the test and lint tools come with `make test`.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

setup: $(VENV)/.installed node_modules/.package-lock.json pdf-libs
	@mkdir -p var/media

# PDF exports (WeasyPrint) need Pango from Debian; installed when missing and we are root.
pdf-libs:
	@ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core >/dev/null); } \
	  || { echo "PDF export needs Pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0"; exit 1; }

setup-test: setup $(VENV)/.installed-test

# Quiet by default, so the admin login and the invite code stand out; LOG_LEVEL=INFO shows every event.
run: export LOG_LEVEL ?= WARNING
run: setup
	@$(BIN)/python manage.py migrate --noinput -v 0
	@$(BIN)/python manage.py bootstrap >/dev/null
	@code=$$($(BIN)/python manage.py create_invite --uses 5 --expires-in-days 30 --note "make run" 2>/dev/null | tail -n 1); \
	trap 'kill 0' EXIT INT TERM; \
	$(BIN)/python manage.py qcluster & \
	$(BIN)/python manage.py runserver 0.0.0.0:$(PORT) & \
	until $(BIN)/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$(PORT)/api/healthz/', timeout=2)" 2>/dev/null; do sleep 0.5; done; \
	printf '\n  ┌──────────────────────────────────────────────────────────────\n'; \
	printf '  │ AfterResume is running on http://localhost:%s/\n' "$(PORT)"; \
	printf '  │ Demo admin:     %s / %s\n' "$(ADMIN_EMAIL)" "$(ADMIN_PASSWORD)"; \
	printf '  │ Invite code:    %s  (for a new account at /accounts/signup/)\n' "$$code"; \
	printf '  │ Emails (sign-up codes) are printed below. Ctrl+C stops web and worker.\n'; \
	printf '  └──────────────────────────────────────────────────────────────\n\n'; \
	wait

chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } \
	  || { echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; }

test: setup-test chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres:
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/afterresume} $(MAKE) test

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  ALLOWED_HOSTS=afterresume.example REDIS_URL=redis://127.0.0.1:6379/0 ALLAUTH_TRUSTED_PROXY_COUNT=1 \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) node_modules staticfiles var
