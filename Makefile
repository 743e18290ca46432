# Two commands on a fresh Debian machine: `make demo` and `make test`.
# Both set up everything: the venv and packages, the Docker engine, the sandbox images, and
# headless Chromium for the run viewer's browser tests.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup venv docker browser images demo test lint bench clean-sandboxes

setup: venv docker browser images

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt --config-settings editable_mode=compat -e '.[dev]'
	touch $@

docker:
	bash sandbox/scripts/docker-up.sh

browser:
	bash scripts/browser-up.sh

images: venv docker
	$(PY) -m sandbox.images build

demo: venv docker images
	$(PY) -m sandbox.run scenario=filechore

test: setup
	SANDBOX_REQUIRE_DOCKER=1 $(PY) -m pytest -q --durations=15

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	for b in benchmarks/bench_*.py; do $(PY) $$b; done

clean-sandboxes: venv
	$(PY) -m sandbox.cleanup --all
