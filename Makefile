# Quick start: `make demo` then `make test`. Both install what they need (run as root on Debian,
# or with sudo available). PYTHON may point at any Python >= 3.11.
PYTHON ?= python3
PIP = $(PYTHON) -m pip
# pytest-xdist workers for `make test` (auto: one per core); each test file runs whole on one worker
JOBS ?= auto
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test deps-core deps deps-rtl lint gen clean

deps-core:
	$(PIP) install -q -e .

deps:
	$(PIP) install -q -e '.[test]'

deps-rtl: deps
	@command -v iverilog >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq iverilog; }
	$(PIP) install -q -e '.[rtl,test]'

demo: deps-core
	$(PYTHON) -m accel.cli demo

test: deps-rtl
	$(PYTHON) -m ruff check .
	$(PYTHON) -m pytest -q -n $(JOBS) --dist loadfile

gen:
	$(PYTHON) -m accel.cli isa gen
	$(PYTHON) docs/figures/core_diagram.py

lint:
	$(PYTHON) -m ruff check .

clean:
	rm -rf .sim_cache build .pytest_cache .ruff_cache
