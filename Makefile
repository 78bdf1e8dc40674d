# Two commands: `make demo` (set up everything and serve the admin) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo worker install migrate test lint e2e bench clean

# The background worker (reminders, periodic jobs) runs beside the web server
# and stops with it (Ctrl+C); reminder e-mails are printed to this terminal.
demo: install migrate  ## Install, migrate, load demo data, start the worker and serve on http://127.0.0.1:8000/admin/
	$(BIN)/python manage.py demo_data
	@$(BIN)/python manage.py worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: install  ## Only the background worker (as `make demo` starts it)
	$(BIN)/python manage.py worker

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python  ## Install the exact versions of requirements.lock
	$(BIN)/python -m pip install --quiet -r requirements.lock

migrate:
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable

# The browser tests run in a second, single-process pass: beside other tests in
# the same xdist run, SQLite's live-server test database could deadlock.
test: install  ## Run the test suite (DATABASE_URL=postgres://... for PostgreSQL)
	$(BIN)/python -m pytest -n 2 --create-db -m "not browser"
	$(BIN)/python -m pytest --create-db -m browser

e2e: install  ## Only the browser tests (Debian's chromium); E2E_SCREENSHOTS=1 rewrites docs/screenshots/
	$(BIN)/python -m pytest -m browser --create-db

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
