#!/usr/bin/env bash
# The type checker over every package and service (configuration in pyproject.toml [tool.mypy]: strict on
# packages/, mypy's defaults on the services). Tests are left out: their fixtures are typed by pytest's
# injection, which mypy cannot follow.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/mypy "$@" \
    packages/servicekit/servicekit packages/jobs/jobs packages/storage/storage packages/testkit/testkit \
    db/suite_db \
    dispatch-service/dispatch_service fleet-api/fleet_api gpt-service/gpt_service \
    automation-service/automation_service automation-service/loadboard_sim \
    bakery-service/bakery_service audit-worker/audit_worker
