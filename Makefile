PYTHON ?= python3
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
