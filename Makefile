# The venv's interpreter, unless PYTHON is given: the system's /usr/bin/python3 when it is 3.11 or
# newer and can make a venv, else the first python3 on PATH.  Distribution builds are compiled with
# PGO and LTO; a default pyenv build is not, and ran the N=1,000 merge 20-25% slower (bench/README.md).
# After changing it: make clean.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' \
	>/dev/null 2>&1 && echo /usr/bin/python3 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-inbox click-catalogue wheel test bench bench-scale templates clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

# The demo year's inbox ships in the package (src/qos_xl/data/demo/); the repository is a workspace.
DEMO_INBOX := src/qos_xl/data/demo

demo: $(STAMP)
	$(BIN)/qos-xl merge --inbox $(DEMO_INBOX) --period 102-12; test $$? -le 1

demo-inbox: $(STAMP)
	$(BIN)/python scripts/make_demo_inbox.py $(DEMO_INBOX)

# The wheel the secretariat installs (pipx install dist/qos_xl-*.whl); README "Install for the secretariat".
wheel: $(STAMP)
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w dist .

click-catalogue: $(STAMP)
	$(BIN)/python scripts/click_catalogue.py

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

templates: $(STAMP)
	$(BIN)/qos-xl templates

clean:
	rm -rf $(VENV) outputs/*.xlsx outputs/feedback outputs/receipts
