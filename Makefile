# Two commands set everything up on a fresh machine: `make run` and `make test`.
# Debian's own Python 3.11 is built with PGO/LTO and renders PDFs ~17% faster than an
# unoptimised build (e.g. pyenv's); use it when it can make virtualenvs.
PYTHON ?= $(shell /usr/bin/python3 -c 'import ensurepip, sys; assert sys.version_info >= (3, 11)' \
	2>/dev/null && echo /usr/bin/python3 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
SYSTEM_PACKAGES := fonts-noto-cjk fonts-lxgw-wenkai fonts-hanazono libharfbuzz-subset0 poppler-utils
export DEBUG ?= 1
# The suite runs in one process per core (pytest-xdist; each has its own test database).
TEST_WORKERS ?= auto

.PHONY: install system-deps run worker test lint bench bench-scale clean mutation

# Fonts and HarfBuzz's subsetter for the PDFs; installed only when missing (needs root/apt).
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) \
	  || echo "WARNING: could not install$$missing; PDFs may be slow or lack fonts."; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: system-deps $(VENV)/.installed

# The demo's signed letters carry a PAdES signature made with a self-signed demo certificate
# (created once; a bureau sets PDF_SIGNING_CERT/PDF_SIGNING_KEY to its unit's own instead).
DEMO_SIGNING_DIR ?= $(HOME)/.cache/deputy-suggestions/demo-signing
run: export PDF_SIGNING_CERT ?= $(DEMO_SIGNING_DIR)/demo-signing-cert.pem
run: export PDF_SIGNING_KEY ?= $(DEMO_SIGNING_DIR)/demo-signing-key.pem
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py make_demo_certificate --out $(DEMO_SIGNING_DIR)
	$(PY) manage.py load_demo
	$(PY) manage.py prepare_pdf_fonts
	$(PY) manage.py db_worker --queue-name '*' & \
	  trap 'kill $$!' EXIT; $(PY) manage.py runserver 127.0.0.1:8000

worker: install
	$(PY) manage.py db_worker --queue-name '*'

# The suite runs with DEBUG off; TESTING=1 allows the throwaway development secret key.
test: install
	DEBUG=0 TESTING=1 $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m ruff check .
	DEBUG=0 TESTING=1 DB_CONN_MAX_AGE=0 $(PY) -m pytest -n $(TEST_WORKERS)

# Mutation testing of the rule engine and rule modules (mutmut, then rule-deletion mutants);
# slow (tens of minutes), not part of `make test`. Ends with `mutants_killed: K/N`.
mutation: install
	DEBUG=0 TESTING=1 $(PY) .ci/mutation.py

lint: install
	$(PY) -m ruff check .

bench: install
	DEBUG=0 TESTING=1 $(PY) manage.py bench_pdf

# Pages at SCALE suggestions on the local PostgreSQL, in a database of their own (created and
# migrated when missing; the volume data is generated once and reused), then under load
# (gunicorn, wrk). Prints `name: value` lines; bounded to 25 minutes.
SCALE ?= 100000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/suggestions_bench
bench-scale: install
	@command -v wrk >/dev/null 2>&1 || (apt-get install -y -qq wrk >/dev/null 2>&1 \
	  || echo "WARNING: wrk is missing and could not be installed: no load figures.")
	DEBUG=0 TESTING=1 DATABASE_URL=$(BENCH_DATABASE_URL) timeout 1500 \
	  $(PY) manage.py bench_scale --scale $(SCALE)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles exports
