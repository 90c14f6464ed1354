# Pivotr Mailer: `make synth` and `make test` install whatever is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PIPENV_VERSION := 2026.10.3
PYTHON ?= python3
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1
# jsii runs on the Node.js that package.json pins (22), not the machine's.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.venv/bin:$(PATH)
# Nothing here needs AWS: keep SDK calls at synth and test time from finding real credentials.
export AWS_EC2_METADATA_DISABLED := true

VENV_STAMP := .venv/.installed-$(shell cat Pipfile.lock 2>/dev/null | sha256sum | cut -c1-12)
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json 2>/dev/null | sha256sum | cut -c1-12)
PY := .venv/bin/python
STAGE ?= dev
STACK := pivotr-mailer-$(STAGE)

.PHONY: help install synth test soak demo local openapi plan deploy bootstrap bench clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(VENV_STAMP) $(NODE_STAMP) ## install the locked Python env (.venv) and Node modules

$(VENV_STAMP): Pipfile.lock
	@$(PYTHON) -m pipenv --version 2>/dev/null | grep -q "$(PIPENV_VERSION)" || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check "pipenv==$(PIPENV_VERSION)"
	$(PYTHON) -m pipenv sync --dev
	@rm -f .venv/.installed-* && touch $@

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	@rm -f node_modules/.installed-* && touch $@

synth: install ## write cdktf.out/ for every stack (dev, staging, prod, bootstrap)
	$(PY) main.py

test: install ## run the whole suite: unit, handler (moto), snapshots, rules, checkov
	$(PY) -m pytest -n 2 --dist loadfile  # two workers: the 2-core machine; a file stays on one worker

soak: install ## ~22 min: 400 random campaign lifecycles (shrunk on failure) and the 1,000-lead fault test
	SOAK=1 FAULT_LEADS=1000 $(PY) -m pytest -p no:cacheprovider -q tests/handlers/test_campaign_lifecycle.py tests/handlers/test_sending_faults.py

bench: install ## print the benchmark tables (synth speed, ...)
	$(PY) bench/run.py

demo: synth ## run the whole mailer locally on moto (no AWS account): import, campaign, sending, feedback, metrics
	$(PY) demo/run.py

local: synth ## serve the HTTP API on 127.0.0.1 over moto for curl or a frontend (Ctrl-C stops)
	$(PY) demo/run.py --serve

openapi: install ## regenerate docs/openapi.json from docs/openapi_source.py
	$(PY) docs/openapi_source.py

plan: install ## terraform plan of one stage: make plan STAGE=prod (needs AWS credentials)
	npx cdktf diff $(STACK)

deploy: install ## deploy one stage: make deploy STAGE=prod (needs AWS credentials)
	npx cdktf deploy $(STACK)

bootstrap: install ## create the state bucket (local state), once per account
	npx cdktf deploy pivotr-mailer-bootstrap

clean: ## remove generated output (keeps installs)
	rm -rf cdktf.out .pytest_cache
