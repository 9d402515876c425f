# bposim: `make demo` runs a bundled sweep and writes its HTML report; `make test` runs the whole suite; `make docs`
# runs the notebooks and writes them as HTML pages, with their figures, in docs/notebooks/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
DEMO_EXPERIMENT := experiments/multiskill_agents_ai.yaml
DEMO_OUT := out/multiskill_agents_ai
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
DOCS := docs/notebooks

.PHONY: demo test lint docs bench bench-staff bench-weekly-staff clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -qq -e .
	touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -qq -e '.[dev]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/bposim sweep $(DEMO_EXPERIMENT) --out $(DEMO_OUT) --report

test: $(STAMP)
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/python -m pytest -n 2 -q

# each notebook executed top to bottom (its figures inline: plotly.js embedded, the page opens offline), then exported
docs: $(STAMP)
	PLOTLY_RENDERER=plotly_mimetype+notebook $(BIN)/python -m nbconvert --to html --execute \
		--ExecutePreprocessor.timeout=900 --output-dir $(DOCS) $(NOTEBOOKS)
	@echo "Notebooks as HTML in $(DOCS)/: open $(DOCS)/erlang_vs_simulation.html in a browser"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/engine_speed.py
	$(BIN)/python benchmarks/replications_speed.py
	$(BIN)/python benchmarks/scale_speed.py
	$(BIN)/python benchmarks/validation_speed.py
	$(BIN)/python benchmarks/sweep_speed.py --replications 100 --workers 1 2 --repeat 1 --save

bench-staff: $(VENV)/.installed
	$(BIN)/python benchmarks/staff_speed.py

bench-weekly-staff: $(VENV)/.installed
	$(BIN)/python benchmarks/weekly_staff_speed.py

clean:
	rm -rf $(VENV) out .pytest_cache $(DOCS)
