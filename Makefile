# circhat: `make app` serves the chat on the embedded default; `make test` runs lint and tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install app demo test test-fast train lint

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# build the default index if missing (with progress), then run an example search
demo: install
	$(BIN)/circhat search --text "a red striped dress" --k 5

# serve the chat app on http://127.0.0.1:7860 (builds the default index first if missing)
app: install
	$(BIN)/circhat app

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

# retrain the embedded model (about 10 minutes on 2 CPU cores; needs the Debian dataset package)
train: install
	$(BIN)/circhat train encoder
