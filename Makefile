# Two entry points from a fresh clone: `make demo` (the main job on the bundled examples)
# and `make test` (lint, types and the whole test suite). Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLES := workbooks/examples
OUT := out

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p $(OUT)
	@for contract in $(EXAMPLES)/*.yaml; do \
		stem=$${contract%.yaml}; id=$$(basename $$stem); adj=""; \
		if [ -f $$stem.adjustments.csv ]; then adj="--adjustments $$stem.adjustments.csv"; fi; \
		echo "== kpixl settle $$contract $$stem.actuals.csv $$adj"; \
		$(BIN)/kpixl settle $$contract $$stem.actuals.csv $$adj || exit $$?; \
		for mode in native udf; do \
			$(BIN)/kpixl quote $$contract --actuals $$stem.actuals.csv $$adj \
				--formulas $$mode -o $(OUT)/$$id-$$mode.xlsx || exit $$?; \
		done; \
	done
	@echo "== kpixl validate $(OUT)/*.xlsx"
	@$(BIN)/kpixl validate $(OUT)/*.xlsx
	@echo "== kpixl batch $(EXAMPLES) -o $(OUT)/batch"
	@$(BIN)/kpixl batch $(EXAMPLES) -o $(OUT)/batch
	@echo "== kpixl scenarios $(EXAMPLES)/acme-amz-us.yaml"
	@$(BIN)/kpixl scenarios $(EXAMPLES)/acme-amz-us.yaml
	@echo "== kpixl compare (two providers on the same monthly outcomes)"
	@mkdir -p $(OUT)/compare
	@$(BIN)/kpixl compare $(EXAMPLES)/acme-amz-us.yaml $(EXAMPLES)/tiktok-us-beauty.yaml \
		--outcomes $(EXAMPLES)/compare-outcomes.csv -o $(OUT)/compare/compare.xlsx
	@echo "== kpixl pace (where March is heading on day 12)"
	@$(BIN)/kpixl pace $(EXAMPLES)/acme-amz-us.yaml $(EXAMPLES)/daily/acme-amz-us.daily.csv

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check kpixl udfs tests benchmarks scripts
	$(BIN)/mypy

test: $(STAMP)
	# LibreOffice, Gnumeric and the UNO bridge for the round trips; a CJK font for the PDF tests.
	command -v soffice >/dev/null 2>&1 && command -v ssconvert >/dev/null 2>&1 \
		&& /usr/bin/python3 -c 'import uno' 2>/dev/null && fc-list :lang=zh | grep -q . \
		|| bash scripts/install_libreoffice.sh --fonts
	$(MAKE) lint
	$(BIN)/pytest -n auto

bench: $(STAMP)
	$(BIN)/python benchmarks/settle.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
