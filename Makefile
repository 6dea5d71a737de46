# helsestat — quick start: `make demo` and `make test` on a machine with python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast lint typecheck docs bench system-deps clean

install: $(STAMP)  ## create .venv and install helsestat with its dev extras (idempotent)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: install  ## synthetic data → ingest → build → serve API + dashboard on http://127.0.0.1:8000
	@echo "helsestat demo: data in $${HELSESTAT_DATA_DIR:-var} (the CLI's default, so .venv/bin/helsestat releases sees it)"
	$(BIN)/helsestat demo

system-deps:  ## chromium, PostgreSQL server binaries, Java (apt-get, only what is missing)
	bash scripts/system-deps.sh

test: install system-deps  ## the whole suite: unit, PostgreSQL, Spark parity, browser, real HTTP
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/pytest -n 2 --durations=15

test-fast: install  ## the suite without the slow groups (PostgreSQL, Spark, browser)
	$(BIN)/pytest -n 2 -m "not postgres and not spark and not browser and not slow"

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install
	$(BIN)/mypy src

docs: install  ## build the documentation site into site/
	$(BIN)/mkdocs build --strict

bench: install system-deps  ## run the benchmarks and write docs/benchmarks.md
	$(BIN)/python -m benchmarks.run --rows $${BENCH_ROWS:-10000000} \
		--stage-rows $${BENCH_STAGE_ROWS:-500000} --work $${BENCH_WORK:-var/bench}

clean:
	rm -rf var site .pytest_cache .mypy_cache .ruff_cache
