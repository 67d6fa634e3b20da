#!/usr/bin/env bash
# The extraction demo against a running stack (local or compose): automation-service reads the 20 most recent
# loads of both loadboard portals (loadboard-sim), gpt-service summarises them (the model when OPENAI_API_KEY
# is set, else its deterministic answer), and the top insights are read back. `make demo` runs it after
# scripts/test_endpoints.sh.
#   FLEET_URL (default http://127.0.0.1:8001), AUTOMATION_URL (default http://127.0.0.1:8003),
#   DEMO_USER_EMAIL / DEMO_USER_PASSWORD (defaults as in .env.example), RUN_WAIT_SECONDS (default 180).
# Needs curl and python3. Exits non-zero when the run does not succeed.
set -euo pipefail

FLEET_URL=${FLEET_URL:-http://127.0.0.1:8001}
AUTOMATION_URL=${AUTOMATION_URL:-http://127.0.0.1:8003}
EMAIL=${DEMO_USER_EMAIL:-demo@fleet.example}
PASSWORD=${DEMO_USER_PASSWORD:-demo-password}
RUN_WAIT_SECONDS=${RUN_WAIT_SECONDS:-180}
BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT

fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$BODY" "$1"; }
# call METHOD URL [JSON]: the body goes to $BODY, the status to stdout.
call() {
    local args=(-sS -o "$BODY" -w '%{http_code}' -X "$1" "$2")
    [[ -n ${TOKEN:-} ]] && args+=(-H "Authorization: Bearer $TOKEN")
    [[ -n ${3:-} ]] && args+=(-H 'Content-Type: application/json' --data "$3")
    curl "${args[@]}" || fail "$1 $2: no answer"
}

printf '\n== extraction: log in, start a run of both portals\n'
status=$(call POST "$FLEET_URL/auth/login" "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}")
[[ $status == 200 ]] || fail "login answered $status: $(head -c 300 "$BODY")"
TOKEN=$(field access_token)
status=$(call POST "$AUTOMATION_URL/runs")
if [[ $status == 409 ]]; then
    # A run is going already (the schedule's, or another demo's): follow that one.
    RUN_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("run_id", ""))' "$BODY")
    [[ -n $RUN_ID ]] || fail "POST /runs answered 409 without the running run's id: $(head -c 300 "$BODY")"
else
    [[ $status == 202 ]] || fail "POST /runs answered $status: $(head -c 300 "$BODY")"
    RUN_ID=$(field id)
fi
echo "run $RUN_ID"

deadline=$((SECONDS + RUN_WAIT_SECONDS))
while :; do
    status=$(call GET "$AUTOMATION_URL/runs/$RUN_ID")
    [[ $status == 200 ]] || fail "GET /runs/$RUN_ID answered $status"
    state=$(field status)
    [[ $state != running ]] && break
    ((SECONDS < deadline)) || fail "run $RUN_ID still running after ${RUN_WAIT_SECONDS}s"
    sleep 2
done
python3 -c 'import json,sys
run = json.load(open(sys.argv[1]))
print("run {status}: {loads_count} loads, {summaries_count} summaries".format(**run))
for error in run.get("errors") or []:
    print("  error:", error)' "$BODY"
[[ $state == succeeded ]] || fail "run $RUN_ID ended $state"

status=$(call GET "$AUTOMATION_URL/loads/top-insights")
[[ $status == 200 ]] || fail "GET /loads/top-insights answered $status"
python3 -c 'import json,sys
for load in json.load(open(sys.argv[1]))["loads"]:
    print("  {portal} {portal_load_id} {origin} -> {destination}:".format(**load), load["summary_text"][:90])' "$BODY"
printf '\nThe extraction demo passed.\n'
