# The everyday commands. `make lab` and `make test` are all a student or a CI machine needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# JupyterLab refuses to start as root without this flag (containers, CI).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--ServerApp.allow_root=True)
LAB_ARGS  ?=
PYTEST_ARGS ?=

.PHONY: help venv chromium lab formgrader test test-fast mutants lint format strip release bench clean

help:
	@echo "make lab      set up .venv and open the course in JupyterLab (your copy: workspace/)"
	@echo "make formgrader  the instructor's JupyterLab with nbgrader's Formgrader"
	@echo "make test     set up .venv and run the whole test suite"
	@echo "make test-fast  the suite without notebook execution and nbgrader round trips"
	@echo "make mutants UNIT=09_rnn  automatic mutants of a unit against its tests [WRITE=1]"
	@echo "make lint     ruff check and format check;  make format  apply ruff format"
	@echo "make strip    remove outputs from every notebook in solutions/ and course/"
	@echo "make release  regenerate course/ from solutions/ with nbgrader"

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[torch,test]"
	touch $(STAMP)

# Students work in workspace/ (git-ignored), a copy of course/ that `git pull` never touches;
# jupyter/student/ turns off nbgrader's instructor tools (the Validate button stays).
WORKSPACE ?= workspace

lab: venv
	$(BIN)/python -m dlkit.workspace sync --course course --workspace $(WORKSPACE)
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter/student$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH))" \
	  $(BIN)/jupyter lab --ServerApp.root_dir=$(WORKSPACE) $(ROOT_FLAG) $(LAB_ARGS)

# The instructor's JupyterLab: nbgrader's Formgrader and Create Assignment, with the course's
# nbgrader_config.py (run from grading/, the repository as root); see grading/README.md.
formgrader: venv
	cd grading && TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR=1 ../$(BIN)/jupyter lab --ServerApp.root_dir=.. $(ROOT_FLAG) $(LAB_ARGS)

# The browser tests (tests/e2e, marker `browser`) drive Debian's Chromium; `make test` installs
# it when missing, unless they are deselected: make test PYTEST_ARGS='-m "not browser"'.
CHROMIUM ?= $(or $(DLKIT_CHROMIUM),/usr/bin/chromium)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo -n)

chromium:
	@[ -x "$(CHROMIUM)" ] || { \
	  echo "make: installing Chromium for the browser tests (apt-get install chromium)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; \
	  [ -x "$(CHROMIUM)" ] || { echo "make: no Chromium at $(CHROMIUM) and could not install it:" \
	    "run 'sudo apt-get install chromium' (or set DLKIT_CHROMIUM to a Chromium)," \
	    "or skip the browser tests: make test PYTEST_ARGS='-m \"not browser\"'" >&2; exit 1; }; }

# Two xdist workers on two cores: one BLAS thread each (benchmarks set their own counts).
test: venv $(if $(findstring not browser,$(PYTEST_ARGS)),,chromium)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

test-fast: venv
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

# Automatic one-change mutants of a unit's solutions against its tests (docs/AUTHORING.md):
# make mutants UNIT=09_rnn [WRITE=1] writes tests/grading/automutants/UNIT.results.json.
mutants: venv
	@test -n "$(UNIT)" || { echo "make mutants needs UNIT=<unit>, e.g. make mutants UNIT=09_rnn" >&2; exit 2; }
	$(BIN)/python tests/grading/automutate.py $(UNIT) --survivors $(if $(WRITE),--write,)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check dlkit grading tests benchmarks

format: venv
	$(BIN)/ruff format dlkit grading tests benchmarks
	$(BIN)/ruff check --fix .

strip: venv
	$(BIN)/python -m dlgrade.strip solutions course

release: venv
	$(BIN)/dlgrade release

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
