# CareCaller site and consent_api: every target sets itself up in .venv/ first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
# The site's builder: mkdocs (the default, with mkdocs-material) or zensical, its successor.
BUILDER ?= mkdocs
HOST ?= 127.0.0.1
PORT ?= 8000
export NO_MKDOCS_2_WARNING := 1

.DEFAULT_GOAL := help
.PHONY: help setup build run serve-docs test lint format fuzz lock audit bench clean
.PHONY: system-test system-bench

# The system packages beyond Python, as command=package: the browser tests drive Debian's
# Chromium, the deployment tests start nginx and ask systemd-analyze about the units, and the
# benchmarks load the service with wrk and run Lighthouse on Node.
TEST_SYSTEM_PACKAGES := chromium=chromium nginx=nginx-light systemd-analyze=systemd
BENCH_SYSTEM_PACKAGES := wrk=wrk node=nodejs npm=npm
# Where those commands are looked for.
SYSTEM_BIN_DIRS ?= /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin
# As root the missing packages are installed with apt; otherwise make stops and says how.
AS_ROOT ?= $(if $(filter 0,$(shell id -u)),yes)
# APT_DRY_RUN=1 prints the apt-get commands instead of running them.
APT_DRY_RUN ?=

# $(call system_packages,command=package ...): install what is missing, or stop and say how.
define system_packages
	@missing=""; \
	for pair in $(1); do \
	  found=""; \
	  for dir in $(SYSTEM_BIN_DIRS); do [ -x "$$dir/$${pair%%=*}" ] && found=yes; done; \
	  [ -n "$$found" ] || missing="$$missing $${pair#*=}"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$(AS_ROOT)" != yes ]; then \
	  echo "make: missing system packages:$$missing. Install them (as root) with:" >&2; \
	  echo "  apt-get update && apt-get install -y$$missing" >&2; \
	  exit 1; \
	fi; \
	run=$(if $(APT_DRY_RUN),echo); \
	$$run apt-get update -qq && \
	$$run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing
endef

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test,zensical,bench]'
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP) ## Create .venv/ and install the project with its test tools

build: setup ## Build the site into site/ (strict; BUILDER=zensical for Zensical), gzip copies beside
ifeq ($(BUILDER),zensical)
	@# Zensical runs no MkDocs hooks: the project's own code stages what they generate, then
	@# post-processes what Zensical built (minification, the Content-Security-Policy).
	$(BIN)/python -m consent_api.site.stage
	rm -rf site
	$(BIN)/zensical build --clean --strict --config-file .build.yml
	$(BIN)/python -m consent_api.site.postbuild site
else ifeq ($(BUILDER),mkdocs)
	$(BIN)/mkdocs build --strict
else
	$(error BUILDER must be mkdocs or zensical, not $(BUILDER))
endif
	@# Publishing, not authoring: servers send these .gz copies (WhiteNoise, nginx gzip_static).
	$(BIN)/python -m whitenoise.compress --quiet --no-brotli site

run: build ## Build the site and serve site and API on http://127.0.0.1:8000/
	@# The embedded, single-machine mode: without a secret it signs with the development key.
	CONSENT_API_ENV=$${CONSENT_API_ENV:-development} $(BIN)/consent-api serve --host $(HOST) --port $(PORT)

serve-docs: setup ## Live preview for marketers on http://127.0.0.1:8001/ (no API)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

lint: setup ## ruff (lint, import order, format) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup ## Apply ruff's formatting and fixable lints
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

system-test:
	$(call system_packages,$(TEST_SYSTEM_PACKAGES))

system-bench:
	$(call system_packages,$(BENCH_SYSTEM_PACKAGES))

test: system-test lint ## Run every test (installs Chromium, nginx, systemd-analyze as root)
	$(BIN)/pytest $(PYTEST_ARGS)

fuzz: setup ## Schemathesis against the OpenAPI document: thousands of cases per endpoint
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-2000} $(BIN)/pytest -p no:cacheprovider tests/test_schemathesis.py

lock: ## Re-resolve the dependencies into requirements.lock (in a throwaway environment)
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[test,zensical,bench]'
	{ sed -n '1,2p' requirements.lock; .lock-venv/bin/python -m pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf .lock-venv

audit: setup ## pip-audit of requirements.lock (needs the vulnerability database online)
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --requirement requirements.lock --no-deps --disable-pip

# Lighthouse, pinned in bench/package-lock.json, installed into bench/node_modules/ (git-ignored).
BENCH_NODE := bench/node_modules/.installed
$(BENCH_NODE): bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund
	touch $@

$(BENCH_NODE): | system-bench

bench: system-bench setup $(BENCH_NODE) ## Run the benchmarks, write bench/results/report.md (BENCH_QUICK=1: smaller)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean: ## Remove build output and caches (keeps instance/ data)
	rm -rf site .build .build.yml .cache .pytest_cache .mypy_cache .ruff_cache
