# One command each to run, test, lint and benchmark Kehu. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: setup system run test lint format bench bench-ingest bench-timeline bench-segments messages clean

setup:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet --extra predict

# Debian packages the browser tests and PDF/screenshot rendering need.
system:
	@bash scripts/install-system-packages.sh

run: setup
	@$(UV) run --frozen kehu migrate --verbosity 0
	@$(UV) run --frozen kehu demo --customers 2000 --if-empty
	@$(UV) run --frozen kehu segment run --if-none
	@echo
	@echo "  Kehu:   http://$(HOST):$(PORT)/"
	@echo "  Log in: admin / kehu-demo-2026  (also manager1, sales1, support1, analyst1, viewer1)"
	@echo
	@$(UV) run --frozen kehu serve --host $(HOST) --port $(PORT)

test: setup system
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: setup
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .

format: setup
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

bench: setup
	@$(UV) run --frozen python bench/run.py $(BENCH_ARGS)

bench-ingest: setup
	@$(UV) run --frozen python bench/ingest.py $(BENCH_ARGS)

bench-timeline: setup
	@$(UV) run --frozen python bench/timeline.py $(BENCH_ARGS)

bench-segments: setup
	@$(UV) run --frozen python bench/segments.py $(BENCH_ARGS)

messages: setup
	@cd src/kehu && $(UV) run --frozen kehu makemessages -l zh_Hans -l en --no-obsolete && $(UV) run --frozen kehu compilemessages

clean:
	rm -rf var .pytest_cache
