# Self-installing targets: a fresh clone needs only python3 (3.11+), node and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .tools/checkov
# Node 20 is what these machines ship; the banner would bury real output.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup synth test bench local clean cost cost-table diagram

$(VENV)/.synth-deps: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -e .
	touch $@

$(VENV)/.dev-deps: $(VENV)/.synth-deps requirements-dev.txt headless_commerce/runtime/storefront/requirements.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# What the storefront tests run against: Debian's redis-server and chromium (never a
# Playwright browser download), and axe-core from npm in a project-local directory.
# apt-get needs root (CI and these machines); elsewhere install the two packages yourself.
AXE := .tools/npm/node_modules/axe-core/axe.min.js
.PHONY: test-deps
test-deps: $(AXE)
	@if ! command -v redis-server >/dev/null || ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server chromium fonts-liberation >/dev/null; \
		else echo "note: install redis-server and chromium (Debian packages) to run the storefront tests"; fi; \
	fi

$(AXE):
	npm install --silent --no-audit --no-fund --prefix .tools/npm axe-core@4

# checkov pins old dependencies (packaging 23.2) that pytest 9 refuses: it gets its own venv.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q -r requirements-checkov.txt
	touch $@

setup: $(VENV)/.dev-deps $(CHECKOV_VENV)/.installed test-deps

## Synthesize every stack into cdk.out (no AWS account needed). Pass CONTEXT="-c profile=prod".
## Synthesizes next to it and swaps only on success, so a bad -c value keeps the last good output.
OUT ?= cdk.out
synth: $(VENV)/.synth-deps
	rm -rf $(OUT).next
	CDK_OUTDIR=$(OUT).next $(PY) app.py $(CONTEXT) || { rm -rf $(OUT).next; exit 2; }
	rm -rf $(OUT) && mv $(OUT).next $(OUT)
	@ls $(OUT)/*.template.json

## Estimated monthly idle cost of dev and prod (CONTEXT="-c profile=dev -c search=false" for one).
cost: $(VENV)/.synth-deps
	$(PY) -m headless_commerce.cli cost $(CONTEXT)

## Regenerate the README's cost table (tests/unit/test_cost.py checks it is current).
cost-table: $(VENV)/.synth-deps
	$(PY) -m headless_commerce.cli cost --readme README.md

## docs/architecture.dot and .svg from the synthesized dev app (tests/unit/test_diagram.py checks the .dot).
## The SVG needs Graphviz (Debian's graphviz; installed here when run as root).
diagram: $(VENV)/.synth-deps
	@if ! command -v dot >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null; \
		else echo "note: install graphviz for the SVG"; fi; \
	fi
	$(PY) -m headless_commerce.diagram docs/architecture

## Unit, nag, runtime tests plus cfn-lint and checkov over the synthesized templates.
test: $(VENV)/.dev-deps $(CHECKOV_VENV)/.installed test-deps
	$(PY) -m pytest -n auto -q

## Every bench runs even when an earlier one misses a target; then one table of every figure
## beside its target (bench/summary.py), whose exit status says whether any missed.
## BENCHES="local feeds" make bench runs a few.
BENCHES ?= synth runtime local search storefront feeds response_cache
BENCH_RESULTS := test-artifacts/bench-results.jsonl
bench: $(VENV)/.dev-deps test-deps
	@mkdir -p $(dir $(BENCH_RESULTS)) && rm -f $(BENCH_RESULTS); failed=""; \
	for b in $(BENCHES); do echo "== bench/$${b}_bench.py"; \
		BENCH_RESULTS=$(BENCH_RESULTS) $(PY) bench/$${b}_bench.py || failed="$$failed $$b"; done; \
	echo "== every figure"; $(PY) bench/summary.py $(BENCH_RESULTS) --failed "$$failed"

## The whole store on this machine, no AWS account: PORT=8080 CATALOG=path/to/catalog.json
## DATA_DIR=.local-data keeps users, carts and orders across restarts (default: in memory).
## The storefront listens on PORT+1 (STOREFRONT_PORT=...); REDIS_URL=redis://... caches in Valkey.
local: $(VENV)/.dev-deps
	$(PY) -m headless_commerce.cli local --port $(or $(PORT),8080) $(if $(CATALOG),--catalog $(CATALOG)) \
		$(if $(DATA_DIR),--data-dir $(DATA_DIR)) $(if $(STOREFRONT_PORT),--storefront-port $(STOREFRONT_PORT))

clean:
	rm -rf cdk.out cdk.out.next $(VENV) .tools .pytest_cache test-artifacts
