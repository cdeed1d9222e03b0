# larseg: the two commands that set everything up on a fresh machine.
#   make demo   set up, then run the main job (scripts/demo.sh: simulate, predict, Table I, displays, report)
#   make test   set up, then run the test suite (tests marked slow or browser are skipped)
#   make lint   ruff over src tests benchmarks scripts
#   make test-slow-ci   the tests marked slow that CI runs (about 4-5 min on 2 cores)
#   make test-browser   the browser tests of larseg scan (needs chromium + chromium-driver)
# CI (.ci/run) runs lint, test, test-browser and test-slow-ci.
# torch is pinned to the CPU build on purpose: an unpinned torch pulls GBs of CUDA.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
TORCH  ?= torch==2.13.0
DEMO   ?= demo-output
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-all test-slow-ci test-browser venv lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Installs torch first (pinned), then larseg editable with the extras the tests use:
# dev (pytest, ruff), root (uproot: LArCV ROOT files), onnx (onnx, onnxruntime: export, --backend onnx),
# spconv (the CPU wheel of spconv 2.3.8, ~20 MB installed: the spconv-vs-torch sparse backend tests),
# scan (FastAPI, uvicorn: larseg scan) and browser (selenium: its browser tests, with Debian's chromium).
EXTRAS ?= dev,root,onnx,spconv,scan,browser
$(STAMP): $(PY) pyproject.toml Makefile
	$(PIP) install -q "$(TORCH)"
	$(PIP) install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest -q -m "" $(PYTEST_ARGS)

# The slow tests CI runs, named one by one so that a new slow test does not join CI
# unnoticed (add it here when it fits the budget). Measured on 2 busy cores: the 11
# presets x 1000 events of test_invariants 271 s (nue-cc 64 s, mpv 40 s, the others
# 5-29 s), the 400-track MIP calibration 2 s.
SLOW_CI ?= tests/detector/test_detector_images.py::test_isotropic_mip_peak_mode_is_near_60 \
           tests/physics/test_invariants.py::test_preset_events_are_physical_1000 \
           tests/data/test_fuzz_readers.py::test_fuzzed_files_many \
           tests/data/test_kill_during_write.py \
           tests/eval/test_hostile_outputs.py \
           tests/model/test_checkpoint_safety.py::test_flipped_bytes_many
test-slow-ci: $(STAMP)
	$(PY) -m pytest -q -m slow --durations=5 $(SLOW_CI) $(PYTEST_ARGS)

# the end-to-end tests of larseg scan in a real browser (Debian's chromium + chromium-driver; about
# a minute). They skip in `make test` where no browser is installed; here a missing browser fails.
test-browser: $(STAMP)
	LARSEG_REQUIRE_BROWSER=1 $(PY) -m pytest -q -m browser tests/scan $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts

demo: $(STAMP)
	$(VENV)/bin/larseg --help
	$(VENV)/bin/larseg config list
	bash scripts/demo.sh $(DEMO)

clean:
	rm -rf $(DEMO) .pytest_cache build src/*.egg-info
