# The two set-up commands: `make demo` and `make test`. Both create the virtual
# environment, make sure a Docker engine answers, and build the checker image on
# first use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

# This project's machines use a frozen Debian snapshot whose sid Release file has
# expired; accepting it is provebench's opt-in setting (off by default).
export PROVEBENCH_APT_IGNORE_VALID_UNTIL ?= 1

.PHONY: demo test test-fast test-lean-repl test-lean-image lint env docker-engine browser kimina-client clean

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

# The real kimina-client (PyPI) for the Kimina API tests: it needs Python 3.12+, so it has a venv of its own.
kimina-client:
	./scripts/ensure-kimina-client.sh .venv-kimina

# Native checkers: ready in about 13 s against 80 s, and each check runs compiled (same verdicts:
# tests/integration/test_run.py); a second `make demo` took 78 s here against about 400 s on bytecode.
demo: env docker-engine
	$(BIN)/provebench images build hol-light-native
	$(BIN)/provebench --checker native run --suite hol-light-core --prover baseline -n 4

# Two workers, one file each at a time (a file's tests share their warm checkers): most of the
# time goes into loading HOL Light, which takes one core per checker.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

# Commands the tests start take one checker each (the default is one per core): the two workers already
# use both cores.
# The Ray tests run after the others (beside them, their checker loads would crowd the time limits of
# the others' checks), in a network namespace with only loopback (scripts/test-ray.sh).
# Strict: a component this machine can have and lacks fails the run instead of skipping its tests
# (tests/components.py). The order is random (pytest-randomly), its seed printed: PYTEST_SEED=N repeats it.
test: env docker-engine browser kimina-client lint
	$(BIN)/provebench images build hol-light
	$(BIN)/provebench images build hol-light-native
	@seed=$${PYTEST_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "test order: --randomly-seed=$$seed (PYTEST_SEED=$$seed make test repeats it)"; \
	PROVEBENCH_TEST_STRICT=1 PROVEBENCH_CHECKERS=1 $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile -m "not ray" \
	  -p randomly --randomly-seed=$$seed --durations=15 $(PYTEST_ARGS) && \
	PROVEBENCH_TEST_STRICT=1 PROVEBENCH_CHECKERS=1 ./scripts/test-ray.sh $(BIN) -p randomly --randomly-seed=$$seed

test-fast: env kimina-client
	$(BIN)/pytest -q -m "not docker"

# The Lean REPL double against the real REPL's own recorded transcripts (its test/ at the pinned tag,
# provebench.containers.LEAN_REPL_PIN), exported from a bare git mirror of leanprover-community/repl into
# LEAN_REPL_SRC. Not part of `make test`: CI has no mirror, and there the test skips, saying why.
LEAN_REPL_GIT ?= /work/.mirror/leanprover-community+repl/repo
LEAN_REPL_TAG ?= v4.24.0
LEAN_REPL_SRC ?= /tmp/repl-$(LEAN_REPL_TAG)

test-lean-repl: env
	mkdir -p $(LEAN_REPL_SRC)
	git --git-dir=$(LEAN_REPL_GIT) archive $(LEAN_REPL_TAG) test | tar -x -C $(LEAN_REPL_SRC)
	PROVEBENCH_LEAN_REPL_SRC=$(LEAN_REPL_SRC) $(BIN)/pytest -q -m upstream -rx tests/integration/test_lean_repl_conformance.py

# The Lean half on the real image, where it can be built (it needs GitHub: not here, not in CI): the
# image with comparator, the checker and judge tests, the attacks, kimina-client's own test().
test-lean-image: env docker-engine kimina-client
	$(BIN)/provebench images build lean4-mathlib
	$(BIN)/pytest -q -m lean -rs tests/integration/test_lean_image.py tests/adversarial/test_lean_adversarial.py

# The docs build strictly (a broken link or a page missing from the nav fails), into a throwaway folder.
lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $$(mktemp -d)

clean:
	rm -rf $(VENV) .venv-kimina .pytest_cache .ruff_cache .mypy_cache
