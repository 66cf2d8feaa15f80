# The venv's interpreter, unless PYTHON is given: the system's /usr/bin/python3 when it is 3.11 or
# newer and can make a venv, else the first python3 on PATH.  Distribution builds are compiled with
# PGO and LTO; a default pyenv build is not, and ran the N=1,000 merge 20-25% slower (bench/README.md).
# After changing it: make clean.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' \
	>/dev/null 2>&1 && echo /usr/bin/python3 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-inbox test bench templates clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/qos-xl merge; test $$? -le 1

demo-inbox: $(STAMP)
	$(BIN)/python scripts/make_demo_inbox.py workbooks/inbox

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

templates: $(STAMP)
	$(BIN)/qos-xl templates

clean:
	rm -rf $(VENV) outputs/*.xlsx outputs/feedback outputs/receipts
