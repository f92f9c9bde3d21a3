# Aliases of the README's commands, which need no make (hcc_utils/bootstrap.py; the same on Windows, macOS, Linux):
#   make book   = python3.11 -m hcc_utils book   build the book on the bundled (synthetic) cohort -> _build
#   make test   = python3.11 -m hcc_utils test   run the test suite
#   make lab    = python3.11 -m hcc_utils lab    open the notebooks in JupyterLab
#   make bench  time every step at 10^4, 10^5, 10^6 patients beside lifelines, R and Jupyter Book (_bench/bench.csv)
# Each creates .venv with Python 3.11 and installs the exact versions of requirements.lock first (once; again when
# requirements.lock or pyproject.toml change).
PYTHON ?= python3.11
VENV   := .venv
STAMP  := $(VENV)/.installed

.PHONY: book test bench lab run lock clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m hcc_utils setup

book:
	$(PYTHON) -m hcc_utils book

# In parallel (pytest-xdist, one worker per core); tests that share a page record run in one worker (--dist loadgroup).
# The builds of the book, the calibration's checksum and the quick bench's result are kept in .cache/ and re-used only
# where their inputs match (tests/conftest.py); `rm -rf .cache` tests from a cold state, as CI's fresh clone does.
test:
	$(PYTHON) -m hcc_utils test

# Figures, not a test: long (the 10^6 cohort is generated once into _bench/cohorts and reused).
bench: $(STAMP)
	$(VENV)/bin/hcc-study bench

lab:
	$(PYTHON) -m hcc_utils lab

# Re-pin the lock from pyproject's ranges in a throw-away environment (Linux), then restore the environment markers
# of the packages only some platforms install (see .ci/check_lock.py, which checks the result for all three).
lock:
	rm -rf /tmp/hcc-lock-venv && $(PYTHON) -m venv /tmp/hcc-lock-venv
	/tmp/hcc-lock-venv/bin/pip install --quiet --upgrade pip
	/tmp/hcc-lock-venv/bin/pip install --quiet ".[test]"
	( echo "# Exact versions for Python 3.11 (3.11.5+) on Windows, macOS and Linux: a pip freeze of a fresh Linux venv, with environment"; \
	  echo "# markers on the packages only some platforms need (checked for all three by .ci/check_lock.py). Regenerate with \`make lock\`."; \
	  /tmp/hcc-lock-venv/bin/pip freeze --exclude hcc-utils ) > requirements.lock
	/tmp/hcc-lock-venv/bin/python .ci/check_lock.py --fix

clean:
	rm -rf _build .pytest_cache .cache
