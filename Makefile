# RefundGuard — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-postgres lint format install clean-var help system-packages

help:
	@echo "make run     install, migrate, load the demo and start web + worker (+ bundled Redis)"
	@echo "make test    run the whole test suite (SQLite unless DATABASE_URL is set)"
	@echo "make lint    ruff (lint + format check) and mypy"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# Evidence-pack PDFs need Pango and a CJK font from the system; installed when missing
# and we may (root with apt), otherwise `manage.py check` says what to install.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk
system-packages:
	@dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $(PDF_PACKAGES) >/dev/null; } || true

run: $(STAMP) system-packages
	$(BIN)/python manage.py serve

# pytest exits 5 when it collects no test; that is not a failure of the command itself.
test: $(STAMP)
	$(BIN)/python manage.py compilemessages --ignore=.venv -v 0 2>/dev/null || true
	$(BIN)/pytest $(PYTEST_ARGS); code=$$?; [ $$code -eq 0 ] || [ $$code -eq 5 ]

test-postgres: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(MAKE) test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean-var:
	rm -rf var
