# The two set-up commands: `make demo` and `make test`. Both create the virtual
# environment, make sure a Docker engine answers, and build the checker image on
# first use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

# This project's machines use a frozen Debian snapshot whose sid Release file has
# expired; accepting it is provebench's opt-in setting (off by default).
export PROVEBENCH_APT_IGNORE_VALID_UNTIL ?= 1

.PHONY: demo test test-fast lint env docker-engine browser clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

env: $(BIN)/.installed

docker-engine:
	./scripts/ensure-docker.sh

browser:
	./scripts/ensure-chromium.sh

demo: env docker-engine
	$(BIN)/provebench images build hol-light
	$(BIN)/provebench run --suite hol-light-core --prover baseline -n 4

# Two workers, one file each at a time (a file's tests share their warm checkers): most of the
# time goes into loading HOL Light, which takes one core per checker.
PYTEST_WORKERS ?= 2

test: env docker-engine browser lint
	$(BIN)/provebench images build hol-light
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile

test-fast: env
	$(BIN)/pytest -q -m "not docker"

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
