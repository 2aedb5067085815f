# Gatehouse: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench install

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Embedded defaults: SQLite, in-memory channel layer, in-process tasks. runserver makes links in
# emails name HOST:PORT too (unless PUBLIC_BASE_URL is set) and sweeps refusals into the statistics.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py rebuild_stats --event demo-conference
	$(PY) manage.py ensure_demo_admin --base-url http://$(HOST):$(PORT)
	@echo "Start here: http://$(HOST):$(PORT)/  Admin: http://$(HOST):$(PORT)/admin/  Live dashboard: http://$(HOST):$(PORT)/dashboard/events/demo-conference/  API docs: http://$(HOST):$(PORT)/api/docs/"
	$(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite against real PostgreSQL and Redis (started on the fly if none is running).
test: install
	$(PY) -m tests.with_services $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
