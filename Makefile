# ml-serving: every entry point. Needs only python3 and make; the virtualenvs are created on first use.
PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
POLICY_VENV := .venv-policy
WORKFLOWS_VENV := .venv-workflows
PY := $(VENV)/bin/python
MLSERVE := $(VENV)/bin/mlserve
STACK ?= dev
OUT ?= build/$(STACK)
CATALOG ?=
# Every environment's stack; e2e (the local control plane of `make e2e`) is checked by the API server, not here.
STACKS := $(filter-out e2e,$(patsubst Pulumi.%.yaml,%,$(wildcard Pulumi.*.yaml)))
CATALOG_ARG := $(if $(CATALOG),--catalog $(CATALOG))
BASE ?= main
# STACK given on the command line or in the environment: that stack only; otherwise every stack (diff, policy).
STACK_ARG = $(if $(filter command line environment,$(origin STACK)),--stack $(STACK))

PROMETHEUS ?=
HISTORY ?=
FORECAST_ARGS ?=

E2E_STATE := build/e2e
# The stack whose models the e2e control plane's fake nodes are sized for (and labelled for: its node pools).
E2E_NODES_STACK ?= e2e
E2E_BIN = $(shell tools/e2e/build.sh --print-bin)

.PHONY: help venv render validate capacity plan forecast forecast-demo diff policy policy-all policy-pack-test \
	lint-workflows test lint schema golden check-manifests check-all examples bench bench-inputs bench-plan lock clean \
	dev-cluster dev-images \
	e2e-build cluster-up cluster-down e2e-dry-run e2e e2e-bench crds fuzz

help: ## list targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@echo "Creating $(VENV): Pulumi SDK and providers, pydantic, test and lint tools (pinned in constraints.txt),"
	@echo "then this project (editable: the mlserve command). First time about a minute; then seconds."
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@
	@echo "Done: $(VENV)/bin/mlserve --help"

venv: $(VENV)/.installed ## create .venv with the pinned dependencies and the mlserve command

render: venv ## render STACK (default dev) offline into OUT (default build/STACK); CATALOG overrides the catalog
	$(MLSERVE) render --stack $(STACK) --out $(OUT) $(CATALOG_ARG)

validate: venv ## check STACK's settings and catalog without rendering
	$(MLSERVE) validate --stack $(STACK) $(CATALOG_ARG)

capacity: venv ## GPUs STACK's catalog needs per accelerator, node pool limits and hourly cost
	$(MLSERVE) capacity --stack $(STACK) $(CATALOG_ARG)

AT ?= max
plan: venv ## cheapest node mix for STACK's catalog (exact MILP, bound, gap, naive plan); writes build/STACK/plan.json; AT=min|max
	$(MLSERVE) plan --stack $(STACK) --at $(AT) --out build/$(STACK)/plan.json $(CATALOG_ARG)

forecast: venv ## forecast STACK's request rates from PROMETHEUS=url or HISTORY=file; recommend replica bounds (FORECAST_ARGS: more options)
	$(MLSERVE) forecast --stack $(STACK) $(if $(PROMETHEUS),--prometheus $(PROMETHEUS)) $(if $(HISTORY),--history $(HISTORY)) $(CATALOG_ARG) $(FORECAST_ARGS)

forecast-demo: venv ## `make forecast` against a local Prometheus backfilled with 4 weeks of synthetic traffic (needs Debian's prometheus)
	$(PY) -m forecasting.demo --stack $(STACK) $(CATALOG_ARG) $(FORECAST_ARGS)

DIFF_CMD = $(MLSERVE) diff $(STACK_ARG) --base $(BASE) $(CATALOG_ARG) $(if $(FORMAT),--format $(FORMAT))
# GNU make exits 2 whenever a command fails, whatever its status: the last line says which status mlserve diff gave
# (1: changes, 2: invalid input); scripts and CI call mlserve diff itself for its 0/1/2 (docs/cli.md).
diff: venv ## what the working tree changes against BASE (default main), per object; STACK= one stack, FORMAT=markdown
	@echo '$(DIFF_CMD)'
	@$(DIFF_CMD) || { status=$$?; \
	  if [ $$status -eq 1 ]; then echo "make diff: changes found (mlserve diff exit 1)" >&2; \
	  else echo "make diff: nothing compared (mlserve diff exit $$status)" >&2; fi; exit $$status; }

policy: venv ## the policy pack's rules (policy/) over STACK's offline render; fails on a mandatory violation
	$(MLSERVE) policy --stack $(STACK) $(CATALOG_ARG)

policy-all: ## make policy for every stack
	@for s in $(STACKS); do $(MAKE) --no-print-directory policy STACK=$$s || exit 1; done

$(POLICY_VENV)/.installed: policy/requirements.txt
	$(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/pip install --quiet --disable-pip-version-check -r policy/requirements.txt
	touch $@

policy-pack-test: $(POLICY_VENV)/.installed ## the pulumi-policy wrappers (policy/__main__.py) in the pack's own venv
	$(POLICY_VENV)/bin/python -m pytest -q -p no:cacheprovider policy/tests

$(WORKFLOWS_VENV)/.installed: requirements-workflows.txt
	$(PYTHON) -m venv $(WORKFLOWS_VENV)
	$(WORKFLOWS_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-workflows.txt
	touch $@

lint-workflows: $(WORKFLOWS_VENV)/.installed ## GitHub workflows: structure (check-jsonschema) and security (zizmor, offline)
	$(WORKFLOWS_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(WORKFLOWS_VENV)/bin/zizmor --offline --min-severity low .github/workflows

dev-cluster: ## create the dev stack's kind cluster (dev/kind-cluster.yaml) with metrics-server; needs docker, kind, kubectl
	bash dev/cluster.sh

dev-images: venv ## build the dev stack's images and load them into its kind cluster; needs docker and kind
	$(MLSERVE) dev-images --stack dev

# One pytest-xdist worker per CPU (TEST_ARGS="-n 0": in this process, one test after another).
TEST_ARGS ?= -n auto
test: venv ## run the test suite (in parallel: TEST_ARGS="-n 0" for one process)
	$(PY) -m pytest -q $(TEST_ARGS)

lint: venv ## ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

schema: venv ## regenerate schema/*.json and the docs/*-reference.md files
	$(MLSERVE) schema

golden: venv ## re-render the golden files under tests/golden (review the diff!)
	@for s in $(STACKS); do $(MLSERVE) render --stack $$s --out tests/golden/$$s || exit 1; done

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

check-manifests: venv $(CHECKOV_VENV)/.installed ## render STACK, validate it (Kubernetes 1.31-1.35, CRDs) and run checkov
	$(MLSERVE) check-manifests --stack $(STACK) --out $(OUT) --checkov $(CHECKOV_VENV)/bin/checkov $(CATALOG_ARG)

check-all: ## check-manifests for every stack
	@for s in $(STACKS); do $(MAKE) --no-print-directory check-manifests STACK=$$s || exit 1; done

examples: venv $(CHECKOV_VENV)/.installed ## render each examples/<name>/ for prod into build/examples/<name>/ and check it (NAME=<name> for one)
	$(MLSERVE) examples $(if $(NAME),--name $(NAME)) --checkov $(CHECKOV_VENV)/bin/checkov

crds: venv ## download the pinned upstream CRD schemas into .crds/ (sha256-checked; for a clone without ../shared/crds)
	$(PY) -m mlserve.crds

bench: venv ## render time and memory of 10, 100 and 1000-model fleets next to the Pulumi floor (BENCH_ARGS="--sizes 10 100 1000 5000"); build/bench/results.json
	nice -n 10 $(MLSERVE) bench $(BENCH_ARGS)

bench-inputs: venv ## how fast validate and render refuse each hostile YAML catalog (tests/bad_inputs), vs the default catalog
	$(PY) -m mlserve.bench_inputs

bench-plan: venv ## planner time and gap for 20, 200 and 1000-model catalogs (targets in planning/bench.py)
	$(PY) -m planning.bench

lock: ## re-resolve constraints.txt from requirements*.txt in a scratch venv
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	{ echo "# Every transitive dependency, pinned: generated by \`make lock\` from requirements-dev.txt. Do not edit."; \
	  .venv-lock/bin/pip freeze --all | grep -v -E '^(pip|setuptools|wheel)=='; } > constraints.txt
	rm -rf .venv-lock

e2e-build: ## build the e2e toolchain from Go modules: control plane, pulumi CLI, Kubernetes provider (pinned in tools/e2e/; cached)
	tools/e2e/build.sh kubernetes etcd kwok pulumi provider

cluster-up: venv ## start the local control plane (etcd, apiserver, controller-manager, scheduler, kwok) and its nodes
	E2E_CRDS="$$($(PY) -c 'from mlserve.manifest_checks import crd_dir; print(crd_dir())')" tools/e2e/cluster.sh up
	$(MLSERVE) e2e-nodes --stack $(E2E_NODES_STACK) > $(E2E_STATE)/nodes.yaml
	tools/e2e/cluster.sh nodes $(E2E_STATE)/nodes.yaml

cluster-down: ## stop the local control plane and remove its state
	tools/e2e/cluster.sh down

e2e-dry-run: venv ## server-side dry-run of dev, staging and prod's rendered manifests on the local control plane
	$(MLSERVE) e2e-dry-run --stack dev --stack staging --stack prod \
		--kubectl $(E2E_BIN)/kubectl --kubeconfig $(E2E_STATE)/kubeconfig

e2e: venv ## the e2e stack under the real Pulumi engine on the local control plane: up, empty preview, change, destroy, rebuild
	tools/e2e/build.sh kubernetes pulumi provider >/dev/null
	$(MLSERVE) e2e --bin $(E2E_BIN) --state $(E2E_STATE)

E2E_BENCH_ARGS ?= --sizes 10 100 500 --checkpoints final --keep-last
e2e-bench: venv ## real-engine preview/up/destroy wall and CPU time for 10, 100, 500-model catalogs on the local control plane (E2E_BENCH_ARGS)
	tools/e2e/build.sh kubernetes pulumi provider >/dev/null
	$(PY) -m mlserve.e2e_bench --bin $(E2E_BIN) --state $(E2E_STATE) $(E2E_BENCH_ARGS)

clean: ## remove build output and virtualenvs
	rm -rf build $(VENV) .venv-checkov $(POLICY_VENV) $(WORKFLOWS_VENV) .pytest_cache .ruff_cache

fuzz: venv ## long property-based fuzz run (FUZZ_EXAMPLES, default 500); failing inputs are saved to tests/fuzz_cases/
	FUZZ_SAVE=1 FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(PY) -m pytest -q tests/test_fuzz.py
