#!/usr/bin/env bash
# `make test`: lint and static checks, then every test of every service and package against real servers
# that the test fixtures start and stop (Postgres, Redis, moto, Azurite, Chromium...).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
start=$(date +%s)

echo "== ruff (lint and format)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

if [[ -x scripts/static_checks.sh ]]; then
    echo "== static checks (Dockerfiles, compose, infrastructure)"
    scripts/static_checks.sh
fi

status=0
echo "== bandit: medium and high findings fail; each one judged harmless carries '# nosec <id>' and its reason"
.venv/bin/bandit -q -ll -r packages db dispatch-service fleet-api gpt-service automation-service bakery-service \
    audit-worker scripts -x '*/tests/*,*/.venv/*,*/node_modules/*' 2>/dev/null || status=1

echo "== pip-audit: every package of uv.lock against PyPI's vulnerability data"
requirements=$(mktemp)
python3 -m uv export --frozen --all-packages --all-groups --format requirements-txt --no-emit-workspace \
    --no-hashes --quiet --output-file "$requirements"
# pip-audit reads each release's vulnerabilities from PyPI's per-version JSON (/pypi/<name>/<version>/json);
# where only a registry proxy without that route answers, every package would be "not found".
probe=https://pypi.org/pypi/pip/24.0/json
if reason=$($PY -c "import urllib.request as u; u.urlopen('$probe', timeout=10)" 2>&1); then
    .venv/bin/pip-audit -r "$requirements" --no-deps --disable-pip --strict --progress-spinner off || status=1
else
    echo "pip-audit SKIPPED: its vulnerability source is not reachable from this machine ($probe:" \
        "${reason##*$'\n'})"
fi
rm -f "$requirements"

# Two lanes side by side: most tests wait on servers, sockets and subprocesses more than they compute, so two
# pytest sessions on two cores finish well before one would. Each starts its own servers on free ports; the
# local stack's fixed ports are used by the second lane only (and under flock). The first lane's output is
# kept in a file and printed when it ends; the second lane prints as it goes.
lane_log=$(mktemp)
echo "== tests, lane 1 (in the background; printed when it ends): packages, db and the services' own tests"
(
    code=0
    $PY -m pytest packages db dispatch-service/tests fleet-api/tests automation-service/tests \
        bakery-service/tests audit-worker/tests -p no:cacheprovider "$@" >"$lane_log" 2>&1 || code=$?
    echo "(lane 1 ended $(( $(date +%s) - start ))s after make test started)" >>"$lane_log"
    exit "$code"
) &
lane_pid=$!
trap 'pkill -TERM -P "$lane_pid" 2>/dev/null; kill "$lane_pid" 2>/dev/null || true' EXIT

lane2=0
echo "== tests, lane 2: gpt-service, with its coverage floor"
# gpt-service's coverage floor is measured on its own tests, so other suites cannot inflate it.
$PY -m pytest gpt-service/tests --cov=gpt_service --cov-report=term:skip-covered --cov-fail-under=80 \
    -p no:cacheprovider || lane2=1

echo "== tests, lane 2: the suite's own (images, static checks, gunicorn, schemathesis, the local stack)"
$PY -m pytest tests --ignore=tests/e2e -p no:cacheprovider "$@" || lane2=1

# A session of its own: its stack holds the fixed ports until the session ends.
echo "== tests, lane 2: end to end: the local stack, the cross-service flows, faults, kills and hostile input (tests/e2e)"
$PY -m pytest tests/e2e -p no:cacheprovider "$@" || lane2=1

lane1=0
wait "$lane_pid" || lane1=1
trap - EXIT
echo "== tests, lane 1: packages, db and the services' own tests"
cat "$lane_log"
rm -f "$lane_log"
((lane1 || lane2)) && status=1

if ((status)); then
    echo "== make test FAILED after $(( $(date +%s) - start ))s"
    exit 1
fi
echo "== make test passed in $(( $(date +%s) - start ))s"
