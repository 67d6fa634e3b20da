#!/usr/bin/env bash
# End-to-end walk through fleet-api, the audit trail and dispatch-service, against a running stack (local or
# compose). The dispatch steps need the day's lists: run `make day` first.
#   FLEET_URL (default http://127.0.0.1:8001), AUDIT_URL (default http://127.0.0.1:8005),
#   DISPATCH_URL (default http://127.0.0.1:8000), DISPATCH_DATE (default today, UTC),
#   DEMO_USER_EMAIL / DEMO_USER_PASSWORD (defaults as in .env.example), AUDIT_WAIT_SECONDS (default 30).
# Needs curl and python3. Prints every step; exits non-zero at the first unexpected status.
set -euo pipefail

FLEET_URL=${FLEET_URL:-http://127.0.0.1:8001}
AUDIT_URL=${AUDIT_URL:-http://127.0.0.1:8005}
EMAIL=${DEMO_USER_EMAIL:-demo@fleet.example}
PASSWORD=${DEMO_USER_PASSWORD:-demo-password}
AUDIT_WAIT_SECONDS=${AUDIT_WAIT_SECONDS:-30}
DISPATCH_URL=${DISPATCH_URL:-http://127.0.0.1:8000}
DISPATCH_DATE=${DISPATCH_DATE:-$(date -u +%F)}
RUN=$(date +%s)-$$
BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

# field JSON_PATH: read a field of the last response body (python3, so jq is not needed).
field() {
    python3 -c 'import json,sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    value = value[int(part)] if isinstance(value, list) else value[part]
print(value if not isinstance(value, (dict, list)) else json.dumps(value))' "$BODY" "$1"
}

# call EXPECTED_STATUS METHOD URL [JSON]: prints the exchange, keeps the body in $BODY, checks the status.
call() {
    local expected=$1 method=$2 url=$3 data=${4:-}
    local args=(-sS -o "$BODY" -D /dev/stderr -w '%{http_code}' -X "$method" "$url")
    [[ -n ${TOKEN:-} ]] && args+=(-H "Authorization: Bearer $TOKEN")
    [[ -n $data ]] && args+=(-H 'Content-Type: application/json' --data "$data")
    echo "> $method $url ${data}"
    local status
    status=$(curl "${args[@]}" 2> >(grep -i -E '^(x-cache|location):' >&2)) || fail "$method $url: no answer"
    echo "< $status $(head -c 600 "$BODY")"
    [[ $status == "$expected" ]] || fail "$method $url answered $status, expected $expected"
}

step "1. log in as the demo user"
TOKEN='' call 200 POST "$FLEET_URL/auth/login" "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}"
TOKEN=$(field access_token)
echo "token: ${TOKEN:0:16}... ($(field token_type), expires in $(field expires_in)s)"

step "1b. a wrong password is refused"
SAVED=$TOKEN; TOKEN=''
call 401 POST "$FLEET_URL/auth/login" "{\"email\":\"$EMAIL\",\"password\":\"not-the-password\"}"
TOKEN=$SAVED

step "2. create a user"
call 201 POST "$FLEET_URL/users" "{\"name\":\"Dana Dispatcher\",\"email\":\"dana-$RUN@fleet.example\",\"password\":\"dana-password-1\"}"
USER_ID=$(field id)
call 200 GET "$FLEET_URL/users/$USER_ID"

step "3. create two drivers and two loads"
call 201 POST "$FLEET_URL/drivers" "{\"name\":\"Ann Lee\",\"licenseNumber\":\"TX-$RUN-1\"}"
DRIVER_ID=$(field id)
call 201 POST "$FLEET_URL/drivers" "{\"name\":\"Bob Ray\",\"licenseNumber\":\"TX-$RUN-2\"}"
call 201 POST "$FLEET_URL/loads" '{"origin":"Austin, TX","destination":"Dallas, TX","cargoType":"steel coils"}'
LOAD_ID=$(field id)
call 201 POST "$FLEET_URL/loads" '{"origin":"Houston, TX","destination":"El Paso, TX","cargoType":"produce"}'
SECOND_LOAD_ID=$(field id)

step "4. list loads twice: a cache miss, then a hit"
call 200 GET "$FLEET_URL/loads?status=OPEN&limit=5"
call 200 GET "$FLEET_URL/loads?status=OPEN&limit=5"
CACHE=$(curl -sS -o /dev/null -D - -H "Authorization: Bearer $TOKEN" "$FLEET_URL/loads?status=OPEN&limit=5" \
        | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache"{print $2}')
[[ $CACHE == HIT ]] || fail "third GET /loads was X-Cache: $CACHE, expected HIT"
echo "X-Cache on the repeated list: $CACHE"

step "5. assign the first load to Ann"
call 201 POST "$FLEET_URL/assignments" "{\"driverId\":\"$DRIVER_ID\",\"loadId\":\"$LOAD_ID\"}"
ASSIGNMENT_ID=$(field id)

step "6. fetch the assignment with its driver and load"
call 200 GET "$FLEET_URL/assignments/$ASSIGNMENT_ID"
[[ $(field driver.status) == ON_LOAD && $(field load.status) == ASSIGNED ]] || fail "driver/load status not updated"

step "7. a second load for Ann is refused (one active load per driver)"
call 409 POST "$FLEET_URL/assignments" "{\"driverId\":\"$DRIVER_ID\",\"loadId\":\"$SECOND_LOAD_ID\"}"

step "8. complete the assignment; completing again is refused"
call 200 PATCH "$FLEET_URL/assignments/$ASSIGNMENT_ID/status" '{"status":"COMPLETED"}'
call 409 PATCH "$FLEET_URL/assignments/$ASSIGNMENT_ID/status" '{"status":"CANCELLED"}'
call 200 GET "$FLEET_URL/loads?status=COMPLETED&limit=5"

step "9. the audit trail of the load shows load.assigned and load.completed"
deadline=$((SECONDS + AUDIT_WAIT_SECONDS))
while :; do
    call 200 GET "$AUDIT_URL/audit-events?loadId=$LOAD_ID" >/dev/null
    TYPES=$(python3 -c 'import json,sys; print(" ".join(i["type"] for i in json.load(open(sys.argv[1]))["items"]))' "$BODY")
    [[ $TYPES == "load.assigned load.completed" ]] && break
    ((SECONDS < deadline)) || fail "audit trail of load $LOAD_ID is [$TYPES] after ${AUDIT_WAIT_SECONDS}s"
    sleep 1
done
call 200 GET "$AUDIT_URL/audit-events?loadId=$LOAD_ID"
echo "audit trail: $TYPES"

printf '\nAll fleet-api and audit-worker steps passed.\n'

step "10. dispatch: the day's lists are there (make day stores them)"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$DISPATCH_URL/days/$DISPATCH_DATE/manifest") \
    || fail "dispatch-service at $DISPATCH_URL does not answer"
[[ $status == 200 ]] || fail "no lists for $DISPATCH_DATE (GET /days/$DISPATCH_DATE/manifest answered $status): run make day DATE=$DISPATCH_DATE"
echo "lists of $DISPATCH_DATE found"

step "11. dispatch: assign the day's packages to driver_1 and driver_2, at most 2 each (the same request again answers the same)"
call 200 POST "$DISPATCH_URL/assign" "{\"driver_ids\":[\"driver_1\",\"driver_2\"],\"max_per_driver\":2,\"date\":\"$DISPATCH_DATE\"}"
read -r DRIVER PACKAGE < <(python3 -c 'import json,sys
assignments = json.load(open(sys.argv[1]))["assignments"]
print(next((f"{d} {ps[0]}" for d, ps in assignments.items() if ps), ""))' "$BODY")
[[ -n ${PACKAGE:-} ]] || fail "neither driver_1 nor driver_2 got a package on $DISPATCH_DATE (all taken? try another DATE)"
echo "$DRIVER carries $PACKAGE"

step "12. dispatch: $DRIVER starts the delivery of $PACKAGE; an unknown pair is 404"
call 200 POST "$DISPATCH_URL/update" "{\"driver_id\":\"$DRIVER\",\"package_id\":\"$PACKAGE\",\"status\":\"in_progress\"}"
call 404 POST "$DISPATCH_URL/update" "{\"driver_id\":\"$DRIVER\",\"package_id\":\"no-such-package\",\"status\":\"accepted\"}"

step "13. dispatch: read the day's assignments of $DRIVER back"
call 200 GET "$DISPATCH_URL/assignments?driver_id=$DRIVER&date=$DISPATCH_DATE&limit=10"

printf '\nAll dispatch-service steps passed.\n'
