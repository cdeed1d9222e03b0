# larseg: the two commands that set everything up on a fresh machine.
#   make demo   set up, then run the main job (scripts/demo.sh: simulate, predict, Table I, displays, report)
#   make test   set up, then run the test suite (tests marked slow are skipped)
# torch is pinned to the CPU build on purpose: an unpinned torch pulls GBs of CUDA.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
TORCH  ?= torch==2.13.0
DEMO   ?= demo-output
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-all venv lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Installs torch first (pinned), then larseg editable with the extras the tests use:
# dev (pytest, ruff), root (uproot: LArCV ROOT files), onnx (onnx, onnxruntime: export, --backend onnx).
EXTRAS ?= dev,root,onnx
$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q "$(TORCH)"
	$(PIP) install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest -q -m "" $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts

demo: $(STAMP)
	$(VENV)/bin/larseg --help
	$(VENV)/bin/larseg config list
	bash scripts/demo.sh $(DEMO)

clean:
	rm -rf $(DEMO) .pytest_cache build src/*.egg-info
