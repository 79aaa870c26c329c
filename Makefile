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

.PHONY: install system-deps run worker test lint bench clean mutation

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

run: install
	$(PY) manage.py migrate --noinput
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

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles exports
