# The commands the README shows. Every target sets up what it needs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-outbox bench-sessions bench-minutes bench-search bench-journal lint format messages system-deps clean

$(STAMP): requirements/base.txt requirements/dev.txt requirements/constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 est requis ($(PYTHON) introuvable)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	touch $(STAMP)

# Debian packages: gettext (translations), Pango (PDF rendering), Chromium (browser tests), PostgreSQL and Redis
# (the test servers bin/with-test-services starts when DATABASE_URL or REDIS_URL is unset).
system-deps:
	@missing=""; \
	for pkg in gettext libpango-1.0-0 libpangoft2-1.0-0 chromium fonts-dejavu-core \
	  postgresql postgresql-common redis-server; do \
	  dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installation des paquets Debian :$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

messages: $(STAMP)
	$(BIN)/python manage.py compilemessages --ignore=.venv -v0

# Embedded run: SQLite, Celery in-process, e-mails on the console, demo data.
run: $(STAMP) messages
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The whole suite on PostgreSQL and Redis: those of DATABASE_URL and REDIS_URL when set (CI), otherwise throwaway
# servers started for the run. One simple command, so that make's SIGTERM reaches the script that stops them.
test: $(STAMP) system-deps messages
	@CELERY_TASK_DEFAULT_QUEUE=concertation-test-$$$$ bin/with-test-services $(BIN)/python -m pytest $(PYTEST_ARGS)

# Throughput and latency of the feedback pages on PostgreSQL (BENCH_DATABASE_URL) under gunicorn.
bench: $(STAMP) messages
	$(BIN)/python bench/feedback_pages.py $(BENCH_ARGS)

# 1,000 e-mails through the outbox and a real worker, against Django's bare send_mass_mail.
bench-outbox: $(STAMP) messages
	$(BIN)/python bench/outbox_fanout.py $(BENCH_ARGS)

# Inviting a session of 1,000 people through a real worker, against Django's bare send of the same e-mails.
bench-sessions: $(STAMP) messages
	$(BIN)/python bench/session_invitations.py $(BENCH_ARGS)

# A 30-page minutes PDF: the portal's rendering against WeasyPrint alone on the same HTML, and the lead's publication.
bench-minutes: $(STAMP) messages
	$(BIN)/python bench/minutes_pdf.py $(BENCH_ARGS)

# The feedback search at the scale of `bench` (50,060 feedback), with its GIN index and after dropping it.
bench-search: $(STAMP) messages
	$(BIN)/python bench/feedback_search.py $(BENCH_ARGS)

# The audit journal's CSV export: rows per second over a trail of N history rows (default 50,000).
bench-journal: $(STAMP) messages
	$(BIN)/python bench/journal_export.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
