# Everything runs inside .venv; the first target that needs it creates it.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest workers: the suite is sized for 2 cores
WORKERS ?= 2

.PHONY: demo test lint bench reproduce experiments clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found (Python >= 3.11 is required; set PY=...)" >&2; exit 2; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,metaworld]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hrrl demo

test: lint
	$(BIN)/pytest -n $(WORKERS) tests

# static checks (also in .pre-commit-config.yaml): style, format, types, the import layers
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m benchmarks --out docs/BENCHMARKS.md

reproduce: $(STAMP)
	$(BIN)/hrrl reproduce --quick --out docs/reproduce-quick

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache

.PHONY: nothing-lost
nothing-lost: $(STAMP)  # issue #13's reproductions on a scratch folder, PASS/FAIL per item
	scripts/check_nothing_lost.sh
