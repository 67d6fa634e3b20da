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

echo "== mypy: strict on packages/ and db/, its defaults on the services"
scripts/typecheck.sh

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

# Three lanes side by side: most tests wait on servers, sockets and subprocesses far more than they compute, so
# three pytest sessions on two cores finish well before one would. Each session starts its own servers on free
# ports. The local stack's fixed ports go to one user at a time (flock on the lock `make e2e` and `make up`'s
# tests share): lane 3 starts the stack once for every test that needs it (its own tests, the live dashboards,
# tests/e2e with the kill tests), then runs schemathesis; the compose demo in lane 1 takes the lock for its
# published ports.
# Lanes 1 and 2 print when they end; lane 3 prints as it goes.
STACK_LOCK=/tmp/suite-localstack.lock
STACK_TESTS=(tests/test_observability_live.py tests/test_local_stack.py tests/e2e)
lane() {  # lane <log file> <command...>: the command's output in the file, the lane's end time appended
    local log=$1 code=0
    shift
    "$@" >"$log" 2>&1 || code=$?
    echo "(this lane ended $(( $(date +%s) - start ))s after make test started)" >>"$log"
    return "$code"
}
# Each service has a coverage floor (docs/development.md), measured on its own tests alone: the sessions that
# measure a service run no other service's tests and no suite test that loads it in-process.
COVERAGE_DIR=$(mktemp -d)
floor() {  # floor <data file> <source folder> <percent>
    echo "== coverage of $2 (floor $3 %)"
    .venv/bin/coverage report --data-file="$COVERAGE_DIR/$1" --include="$2/*" --fail-under="$3" --format=total
}
lane1_tests() {
    local code=0
    COVERAGE_FILE=$COVERAGE_DIR/lane1 $PY -m pytest packages db dispatch-service/tests audit-worker/tests \
        --cov=dispatch_service --cov=audit_worker --cov-report= -p no:cacheprovider "$@" || code=1
    floor lane1 dispatch-service/dispatch_service 94 || code=1
    floor lane1 audit-worker/audit_worker 95 || code=1
    echo "== gpt-service"
    COVERAGE_FILE=$COVERAGE_DIR/gpt $PY -m pytest gpt-service/tests --cov=gpt_service --cov-report= \
        -p no:cacheprovider "$@" || code=1
    floor gpt gpt-service/gpt_service 98 || code=1
    echo "== each image replayed without Docker, and the compose demo against them"
    $PY -m pytest tests/test_image_replay.py -p no:cacheprovider "$@" || code=1
    return "$code"
}
lane2_tests() {
    local code=0
    COVERAGE_FILE=$COVERAGE_DIR/lane2 $PY -m pytest fleet-api/tests automation-service/tests bakery-service/tests \
        --cov=fleet_api --cov=automation_service --cov=loadboard_sim --cov=bakery_service --cov-report= \
        -p no:cacheprovider "$@" || code=1
    floor lane2 fleet-api/fleet_api 93 || code=1
    floor lane2 automation-service 95 || code=1
    floor lane2 bakery-service/bakery_service 97 || code=1
    echo "== the suite's own tests (static checks, contracts, hostile input, the processes)"
    $PY -m pytest tests --ignore=tests/test_image_replay.py --ignore=tests/test_schemathesis.py \
        "${STACK_TESTS[@]/#/--ignore=}" -p no:cacheprovider "$@" || code=1
    return "$code"
}
lane1_log=$(mktemp)
lane2_log=$(mktemp)
echo "== tests, lanes 1 and 2 (in the background; printed when they end)"
lane "$lane1_log" lane1_tests "$@" &
lane1_pid=$!
lane "$lane2_log" lane2_tests "$@" &
lane2_pid=$!
trap 'for p in "$lane1_pid" "$lane2_pid"; do pkill -TERM -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done; rm -rf "$COVERAGE_DIR"; true' EXIT

lane3=0
echo "== tests, lane 3: one local stack: the stack itself, the live dashboards, then end to end (flows, faults,"
echo "   kills, hostile input: tests/e2e)"
flock "$STACK_LOCK" $PY -m pytest "${STACK_TESTS[@]}" -p no:cacheprovider "$@" || lane3=1
# The stack's session ends before the other lanes: schemathesis (every service's OpenAPI document, every check)
# takes the time that is left here.
echo "== tests, lane 3: schemathesis with every check on every service"
$PY -m pytest tests/test_schemathesis.py -p no:cacheprovider "$@" || lane3=1
echo "(lane 3 ended $(( $(date +%s) - start ))s after make test started)"

lane1=0
lane2=0
wait "$lane1_pid" || lane1=1
wait "$lane2_pid" || lane2=1
trap - EXIT
echo "== tests, lane 1: packages, db, dispatch-service, audit-worker, gpt-service and the images"
cat "$lane1_log"
echo "== tests, lane 2: fleet-api, automation-service, bakery-service and the suite's own tests (schemathesis aside)"
cat "$lane2_log"
rm -rf "$lane1_log" "$lane2_log" "$COVERAGE_DIR"
((lane1 || lane2 || lane3)) && status=1

if ((status)); then
    echo "== make test FAILED after $(( $(date +%s) - start ))s"
    exit 1
fi
echo "== make test passed in $(( $(date +%s) - start ))s"
