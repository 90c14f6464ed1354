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
# CDK Terrain (cdktn), the maintained fork of CDKTF: its own lock and virtualenv, installed on demand.
TERRAIN_STAMP := terrain/.venv/.installed-$(shell cat terrain/Pipfile.lock 2>/dev/null | sha256sum | cut -c1-12)
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json 2>/dev/null | sha256sum | cut -c1-12)
PY := .venv/bin/python
STAGE ?= dev
STACK := pivotr-mailer-$(STAGE)
# Which CDK toolchain synthesizes: cdktf (the owner's, default) or cdktn (CDK Terrain; docs/toolchains.md).
TOOLCHAIN ?= cdktf
export TOOLCHAIN
ifeq ($(TOOLCHAIN),cdktn)
SYNTH_PY := terrain/.venv/bin/python
SYNTH_ENV := $(TERRAIN_STAMP)
else
SYNTH_PY := $(PY)
SYNTH_ENV :=
endif

.PHONY: help install terrain-install test-terrain browser synth test soak demo local openapi client plan preflight deploy bootstrap secret admin rotate-unsubscribe-key redrive bench clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(VENV_STAMP) $(NODE_STAMP) ## install the locked Python env (.venv) and Node modules

$(VENV_STAMP): Pipfile.lock
	@$(PYTHON) -m pipenv --version 2>/dev/null | grep -q "$(PIPENV_VERSION)" || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check "pipenv==$(PIPENV_VERSION)"
	$(PYTHON) -m pipenv sync --dev
	@rm -f .venv/.installed-* && touch $@

terrain-install: $(TERRAIN_STAMP) ## install CDK Terrain's locked env (terrain/.venv); make test and the default synth never need it

$(TERRAIN_STAMP): terrain/Pipfile.lock
	@$(PYTHON) -m pipenv --version 2>/dev/null | grep -q "$(PIPENV_VERSION)" || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check "pipenv==$(PIPENV_VERSION)"
	cd terrain && $(PYTHON) -m pipenv sync
	@rm -f terrain/.venv/.installed-* && touch $@

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	@rm -f node_modules/.installed-* && touch $@

synth: install $(SYNTH_ENV) ## write cdktf.out/ for every stack (dev, staging, prod, bootstrap); TOOLCHAIN=cdktn for CDK Terrain
	$(SYNTH_PY) main.py

browser: ## Debian's chromium and chromium-driver, for the browser tests (installed when missing)
	@command -v chromedriver >/dev/null && test -x /usr/bin/chromium || { \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium chromium-driver; }

test: install browser ## run the whole suite: unit, handler (moto), browser, snapshots, rules, checkov
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder  # two workers (2 cores); a file stays on one worker; files go in collection order, longest first (tests/conftest.py)

test-terrain: install terrain-install ## synthesize every stack with CDKTF and CDK Terrain; fail on any difference but the version label
	$(PY) terrain/compare.py

soak: install ## ~22 min: 400 random campaign lifecycles (shrunk on failure) and the 1,000-lead fault test
	SOAK=1 FAULT_LEADS=1000 $(PY) -m pytest -p no:cacheprovider -q tests/handlers/test_campaign_lifecycle.py tests/handlers/test_sending_faults.py

bench: install terrain-install ## print the benchmark tables (synth speed, ...)
	$(PY) bench/run.py

demo: synth ## run the whole mailer locally on moto (no AWS account): import, campaign, sending, feedback, metrics
	$(PY) demo/run.py

local: synth ## serve the HTTP API on 127.0.0.1 over moto for curl or a frontend (Ctrl-C stops)
	$(PY) demo/run.py --serve

openapi: install ## regenerate docs/openapi.json from docs/openapi_source.py, and the typed client from it
	$(PY) docs/openapi_source.py
	$(MAKE) --no-print-directory client

client: install ## regenerate client/schema.d.ts (the frontend's types) from docs/openapi.json
	openapi-typescript docs/openapi.json -o client/schema.d.ts
	tsc -p client

# -- a real account (the caller's credentials; docs/first-deploy.md) ----------------------------------
# These targets need credentials, which may come from an instance or container role.
CREDENTIALED := plan preflight deploy bootstrap secret admin rotate-unsubscribe-key redrive
$(CREDENTIALED): export AWS_EC2_METADATA_DISABLED := false
OPS := $(PY) -m ops

plan: install ## terraform plan of one stage: make plan STAGE=prod (needs AWS credentials)
	npx cdktf diff $(STACK)

preflight: synth ## read-only checks of the account before a deploy: make preflight STAGE=prod
	$(OPS) preflight --stage $(STAGE)

deploy: preflight ## preflight, then deploy one stage: make deploy STAGE=prod (needs AWS credentials)
	npx cdktf deploy $(STACK)

bootstrap: install ## create the state bucket (local state), once per account
	npx cdktf deploy pivotr-mailer-bootstrap

secret: synth ## put a secret's value from stdin: make secret STAGE=dev NAME=verifier-api-key
	@test -n "$(NAME)" || { echo "NAME=verifier-api-key or NAME=unsubscribe-signing-key"; exit 2; }
	$(OPS) secret --stage $(STAGE) --name $(NAME)

admin: synth ## create the first Cognito user: make admin STAGE=prod EMAIL=you@example.com
	@test -n "$(EMAIL)" || { echo "EMAIL=<the admin's address>"; exit 2; }
	$(OPS) create-admin --stage $(STAGE) --email $(EMAIL)

rotate-unsubscribe-key: synth ## new unsubscribe key; old links work OVERLAP_DAYS more (default 90)
	$(OPS) rotate-unsubscribe-key --stage $(STAGE) $(if $(OVERLAP_DAYS),--overlap-days $(OVERLAP_DAYS))

redrive: synth ## move a DLQ back into its queue after a fix: make redrive STAGE=prod QUEUE=sending
	@test -n "$(QUEUE)" || { echo "QUEUE=sending|verification|transfers|ses-feedback"; exit 2; }
	$(OPS) redrive --stage $(STAGE) --queue $(QUEUE)

clean: ## remove generated output (keeps installs)
	rm -rf cdktf.out .pytest_cache
