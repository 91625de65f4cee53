# Two commands matter: `make up` (deploy) and `make test` (everything offline). `make` alone lists the others:
# a target's `## ` comment is its line in that list, in this file's order.
.DEFAULT_GOAL := help
STACK ?= dev
# The folder of another Pulumi project for `make plan` (PROJECT=bootstrap); empty: the webstack program.
PROJECT ?=
BOOTSTRAP_STACK ?= ci
PYTHON ?= python3
VENV := venv
# Two workers (the machine's two cores). worksteal: an idle worker takes tests from the busy one (loadfile kept
# each module on one worker, and one worker ran the slow subprocess modules alone: 123 s against 103 s here);
# renders are shared between the workers (tests/conftest.py).
PYTEST_PARALLEL := -n 2 --dist worksteal
PY := $(VENV)/bin/python
cksum = $(shell cat $(1) | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(call cksum,requirements.txt requirements-dev.txt)
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(call cksum,requirements-checkov.txt)
POLICY_STAMP := policy/venv/.installed-$(call cksum,policy/requirements.txt)
# uv makes and fills every virtualenv. The uv pinned in requirements-uv.txt lives in a bootstrap virtualenv that
# the system Python's venv and pip make once: the only step that uses them.
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv
UV_STAMP := $(UV_VENV)/.installed-$(call cksum,requirements-uv.txt)
# The tools a real deploy needs, installed into the project once: the AWS CLI v1 (hash-checked from PyPI) and the
# Pulumi CLI of .pulumi.version (checksum-verified, tools/install_cli.py).
AWSCLI_VENV := .venv-awscli
AWSCLI_STAMP := $(AWSCLI_VENV)/.installed-$(call cksum,requirements-awscli.txt)
PULUMI_VERSION := $(shell cat .pulumi.version)
PULUMI_BIN := .pulumi-cli/$(PULUMI_VERSION)/bin
DEPLOY_PATH := $(CURDIR)/$(PULUMI_BIN):$(CURDIR)/$(AWSCLI_VENV)/bin:$$PATH

.PHONY: help up down bootstrap pulumi-cli awscli-venv test plan diff cost policy review bump generate config-schema aws-data outputs diagram review-sample policy-docs \
	replacements bench lint unit venv checkov-venv policy-venv clean

help: ## this list
	@echo "Two commands matter:"
	@awk -F ':.*## ' '/^(up|test):.*## /{printf "  make %-14s %s\n", $$1, $$2}' $(firstword $(MAKEFILE_LIST))
	@echo "Variables: STACK=$(STACK) (plan, diff, cost, policy, up, down, bump), FORMAT=markdown (diff, cost, policy),"
	@echo "           PROJECT=bootstrap (plan), BOOTSTRAP_STACK=$(BOOTSTRAP_STACK) (bootstrap),"
	@echo "           BASE=<git ref> (diff, cost, review; default: the merge base with main),"
	@echo "           CONFIRM_DESTROY=<stack> (down without a terminal: destroys STACK without asking)"
	@echo "Everything else:"
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / && !/^(up|test|help):/{printf "  make %-14s %s\n", $$1, $$2}' \
		$(firstword $(MAKEFILE_LIST))

up: venv awscli-venv pulumi-cli ## deploy STACK (default dev): check the prerequisites, pick the state backend, pulumi up
	PATH="$(DEPLOY_PATH)" STACK=$(STACK) PY=$(PY) ./tools/up.sh

# The same CLIs, PATH and state backend as `make up`.
down: venv awscli-venv pulumi-cli ## tear STACK down: refuse while deletion-protected, pulumi destroy, list what is left
	PATH="$(DEPLOY_PATH)" STACK=$(STACK) PY=$(PY) CONFIRM_DESTROY=$(CONFIRM_DESTROY) ./tools/down.sh

test: lint unit ## everything offline: ruff, then the whole test suite (makes the virtualenvs first)

bootstrap: venv awscli-venv pulumi-cli ## once per AWS account: CI's state bucket, OIDC provider and roles (docs/ci.md)
	PATH="$(DEPLOY_PATH)" STACK=$(BOOTSTRAP_STACK) ./tools/bootstrap.sh

# The order-only venv: the installer checks the CLI with the Pulumi SDK's Automation API.
$(PULUMI_BIN)/pulumi: .pulumi.version | $(STAMP)
	$(PY) -m tools.install_cli

pulumi-cli: $(PULUMI_BIN)/pulumi ## the Pulumi CLI of .pulumi.version in .pulumi-cli/ (downloaded once, verified)

$(AWSCLI_STAMP): requirements-awscli.txt | $(UV_STAMP)
	@test -x $(AWSCLI_VENV)/bin/python || $(UV) venv --quiet --no-python-downloads --python $(PYTHON) $(AWSCLI_VENV)
	$(UV) pip install --quiet --compile-bytecode --require-hashes --python $(AWSCLI_VENV)/bin/python -r requirements-awscli.txt
	@rm -f $(AWSCLI_VENV)/.installed-* && touch $@

awscli-venv: $(AWSCLI_STAMP) ## the AWS CLI v1 in .venv-awscli/ (hash-checked; the kubeconfig runs aws eks get-token)

# --- review a change offline, without credentials (README "Reviewing a change") ---
plan: venv ## render STACK (of PROJECT, e.g. bootstrap) under the Pulumi mocks into build/plan/
	$(PY) -m tools.render --stack $(if $(PROJECT),$(if $(filter command line,$(origin STACK)),$(STACK),$(BOOTSTRAP_STACK)) --project $(PROJECT),$(STACK))

# A replacement or deletion of a stateful or shared type exits 3 unless acknowledged: ALLOW_REPLACE="network-vpc ..."
# or a commit trailer `Allow-Replace: network-vpc` (docs/review.md).
diff: venv ## the plan diff of STACK (all: every root and test stack) against BASE; ALLOW_REPLACE=names
	$(PY) -m tools.review.diff --stack $(STACK) $(if $(BASE),--base $(BASE)) $(if $(FORMAT),--format $(FORMAT)) \
		$(foreach p,$(ALLOW_REPLACE),--allow-replace $(p))

cost: venv ## the monthly cost of STACK and its change against BASE (USAGE=file for your traffic)
	$(PY) -m tools.review.cost --stack $(STACK) $(if $(BASE),--base $(BASE)) $(if $(USAGE),--usage $(USAGE)) \
		$(if $(FORMAT),--format $(FORMAT))

# `policy` is also a folder: phony, so it always runs.
policy: venv ## the policy pack's verdicts on STACK
	$(PY) -m tools.review.policy_report --stack $(STACK) $(if $(FORMAT),--format $(FORMAT))

review: venv ## the pull request comment (diff, cost, policies per stack) in build/review/comment.md
	$(PY) -m tools.review.review $(if $(BASE),--base $(BASE)) --out build/review

# --- versions: the program reads Pulumi.<stack>.lock.yaml and resolves nothing (docs/operations.md) ---
# STACKS: the folder of the stack file (tests/stacks for a test stack); DRY_RUN=1 prints without writing;
# SUMMARY=<file> writes the changes as Markdown (the weekly pull request's body, .github/workflows/bump.yml).
bump: venv ## rewrite STACK's version lock with the newest compatible versions (read-only AWS calls)
	$(PY) -m tools.bump --stack $(STACK) $(if $(STACKS),--stacks $(STACKS)) $(if $(DRY_RUN),--dry-run) \
		$(if $(SUMMARY),--summary $(SUMMARY))

# --- generated files: tools/generate.py lists every generator; a test runs its --check ---
generate: venv ## refresh every generated file below in one go
	$(PY) -m tools.generate

aws-data: venv ## infra/data/aws-data.json: the AWS data snapshot, from the pinned botocore
	$(PY) -m tools.aws_data

config-schema: venv ## Pulumi.yaml's config: block, from the key declarations in infra/config/
	$(PY) -m tools.config_schema

outputs: venv ## README's Outputs table, from the export(name, value, description) calls of __main__.py
	$(PY) -m tools.outputs

diagram: venv ## docs/architecture-*.png (+ .json) and README's picture block, from the example stacks
	$(PY) -m tools.review.diagram

replacements: venv ## tools/review/data/replacements.json: what replaces each resource type, for make diff
	$(PY) -m tools.replacements

review-sample: venv ## docs/review-sample.md: the sample review comment, from the test stacks
	$(PY) -m tools.review.review --sample

policy-docs: venv ## policy/README.md's table of policies, from the declarations beside each validator
	$(PY) -m tools.policy_docs

# --- the pieces of `make test`, timings, virtualenvs ---
bench: venv checkov-venv ## time plan, diff, cost, the suite and a fresh clone's make test (printed only)
	$(PY) -m tools.bench

lint: venv ## ruff
	$(PY) -m ruff check .

unit: venv checkov-venv ## the test suite (pytest, two workers)
	CHECKOV=$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest $(PYTEST_PARALLEL)

# The system pip installs into the bootstrap virtualenv from outside (pip >= 22.3): no pip of its own to set up.
$(UV_STAMP): requirements-uv.txt
	@test -x $(UV_VENV)/bin/python || $(PYTHON) -m venv --without-pip $(UV_VENV)
	$(PYTHON) -m pip --python $(UV_VENV)/bin/python install --quiet --disable-pip-version-check -r requirements-uv.txt
	@rm -f $(UV_VENV)/.installed-* && touch $@

# uv installs every package with its bytecode (pip's default; uv's is to leave it to the first import): left to the
# first import, the suite's first processes all compiled the same SDK modules at once, 20 s of a fresh clone's suite.
# The project's own modules and pytest's rewritten tests are written on first import; PYTHONDONTWRITEBYTECODE in the
# environment would forbid that, and make every process recompile them: no recipe runs with it (measured:
# docs/development.md, "Bytecode").
unexport PYTHONDONTWRITEBYTECODE
# $(call uv_venv,DIR,REQUIREMENTS,VENV FLAGS): make DIR once, install REQUIREMENTS into it, stamp.
# --seed adds pip: Pulumi's pip toolchain runs `python -m pip list` in the virtualenv it uses.
define uv_venv
	@test -x $(1)/bin/python || $(UV) venv --quiet --no-python-downloads --python $(PYTHON) $(3) $(1)
	$(UV) pip install --quiet --compile-bytecode --python $(1)/bin/python -r $(2)
	@rm -f $(1)/.installed-* && touch $@
endef

# The uv stamp is order-only: a newer uv reinstalls nothing.
$(STAMP): requirements.txt requirements-dev.txt | $(UV_STAMP)
	$(call uv_venv,$(VENV),requirements-dev.txt,--seed)

venv: $(STAMP) ## the project virtualenv venv/ (the program and the test tools)

# checkov pins old packaging/boto3: it gets a virtualenv of its own.
$(CHECKOV_STAMP): requirements-checkov.txt | $(UV_STAMP)
	$(call uv_venv,$(CHECKOV_VENV),requirements-checkov.txt)

checkov-venv: $(CHECKOV_STAMP) ## checkov's own virtualenv .venv-checkov/

$(POLICY_STAMP): policy/requirements.txt | $(UV_STAMP)
	$(call uv_venv,policy/venv,policy/requirements.txt,--seed)

policy-venv: $(POLICY_STAMP) ## the policy pack's virtualenv policy/venv/ (policy/PulumiPolicy.yaml names it)

clean: ## remove build output and tool caches (the virtualenvs stay)
	rm -rf build .pytest_cache .ruff_cache .hypothesis
