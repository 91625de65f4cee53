# Two commands matter: `make up` (deploy) and `make test` (everything offline). See README.md.
STACK ?= dev
PYTHON ?= python3
VENV := venv
# Two workers (the machine's two cores); each test module stays in one worker, so its renders happen once.
PYTEST_PARALLEL := -n 2 --dist loadfile
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < requirements-checkov.txt | cut -d' ' -f1)

.PHONY: venv checkov-venv policy-venv policy-docs test lint unit plan diagram outputs up bench clean config-schema aws-data \
	replacements

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

# checkov pins old packaging/boto3: it gets a virtualenv of its own.
$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@rm -f $(CHECKOV_VENV)/.installed-* && touch $@

checkov-venv: $(CHECKOV_STAMP)

# The policy pack's own virtualenv (policy/PulumiPolicy.yaml names it), for `pulumi preview --policy-pack policy`.
policy-venv:
	@test -x policy/venv/bin/python || $(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet --disable-pip-version-check -r policy/requirements.txt

lint: venv
	$(PY) -m ruff check .

unit: venv checkov-venv
	CHECKOV=$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest $(PYTEST_PARALLEL)

test: lint unit

plan: venv
	$(PY) -m tools.render --stack $(STACK)

diagram: venv
	$(PY) -m tools.review.diagram

# README's Outputs table, from the export(name, value, description) calls of __main__.py.
outputs: venv
	$(PY) -m tools.outputs

# policy/README.md's table of policies, from the declarations beside each validation function in policy/.
policy-docs: venv
	$(PY) -m tools.policy_docs

# Review a change offline: the plan diff and the monthly cost against BASE (default: the merge base with main).
# `make diff STACK=all`: the plan diff of every root stack and every test stack (tests/stacks), a line each at the end.
.PHONY: diff cost
# A replacement or deletion of a stateful or shared type exits 3 unless acknowledged: ALLOW_REPLACE="network-vpc ..."
# or a commit trailer `Allow-Replace: network-vpc` (docs/review.md).
diff: venv
	$(PY) -m tools.review.diff --stack $(STACK) $(if $(BASE),--base $(BASE)) $(if $(FORMAT),--format $(FORMAT)) \
		$(foreach p,$(ALLOW_REPLACE),--allow-replace $(p))

cost: venv
	$(PY) -m tools.review.cost --stack $(STACK) $(if $(BASE),--base $(BASE)) $(if $(USAGE),--usage $(USAGE)) \
		$(if $(FORMAT),--format $(FORMAT))

up: venv
	STACK=$(STACK) PY=$(PY) ./tools/up.sh

# Pulumi.yaml's config: block is generated from the key declarations in infra/config/.
aws-data: venv
	$(PY) tools/aws_data.py

config-schema: venv
	$(PY) tools/config_schema.py

# tools/review/data/replacements.json (what replaces each resource type, for make diff) from replacement-sources.yaml.
replacements: venv
	$(PY) tools/replacements.py

bench: venv checkov-venv
	$(PY) tools/bench.py

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis

# Review without credentials (docs/review.md). `policy` is also a folder: phony, so it always runs.
.PHONY: policy review review-sample
policy: venv
	$(PY) -m tools.review.policy_report --stack $(STACK) $(if $(FORMAT),--format $(FORMAT))
# The pull request comment (diff + cost change + policy table per root stack) in build/review/comment.md;
# review-sample rewrites the sample comment in docs/review-sample.md.
review: venv
	$(PY) -m tools.review.review $(if $(BASE),--base $(BASE)) --out build/review
review-sample: venv
	$(PY) -m tools.review.review --sample
