# The two commands of the README:
#   make book   build the book on the bundled (synthetic) cohort -> _build/html/index.html
#   make test   run the test suite
#   make bench  time every step at 10^4, 10^5, 10^6 patients beside lifelines, R and Jupyter Book (_bench/bench.csv)
# Both create .venv (Python 3.11) and install the exact versions of requirements.lock first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test bench lab run lock clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/hcc-study build --out _build

# In parallel (pytest-xdist, one worker per core); tests that share a page record run in one worker (--dist loadgroup).
# The builds of the book, the calibration's checksum and the quick bench's result are kept in .cache/ and re-used only
# where their inputs match (tests/conftest.py); `rm -rf .cache` tests from a cold state, as CI's fresh clone does.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadgroup --durations=8

# Figures, not a test: long (the 10^6 cohort is generated once into _bench/cohorts and reused).
bench: $(STAMP)
	$(BIN)/hcc-study bench

# Open the notebooks in JupyterLab (installs the pinned jupyterlab of pyproject's [lab] extra the first time).
lab: $(STAMP)
	$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install --quiet "jupyterlab==4.6.6"
	$(BIN)/jupyter lab notebooks/

# Re-pin the lock from pyproject's ranges in a throw-away environment.
lock:
	rm -rf /tmp/hcc-lock-venv && $(PYTHON) -m venv /tmp/hcc-lock-venv
	/tmp/hcc-lock-venv/bin/pip install --quiet --upgrade pip
	/tmp/hcc-lock-venv/bin/pip install --quiet ".[test]"
	( echo "# Exact versions for Python 3.11 (pip freeze of a fresh venv). Regenerate with \`make lock\`."; \
	  /tmp/hcc-lock-venv/bin/pip freeze --exclude hcc-utils ) > requirements.lock

clean:
	rm -rf _build .pytest_cache .cache
