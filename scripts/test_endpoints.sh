#!/usr/bin/env bash
# End-to-end walk through fleet-api and the audit trail, against a running stack (local or compose).
#   FLEET_URL (default http://127.0.0.1:8001), AUDIT_URL (default http://127.0.0.1:8005),
#   DEMO_USER_EMAIL / DEMO_USER_PASSWORD (defaults as in .env.example), AUDIT_WAIT_SECONDS (default 30).
# Needs curl and python3. Prints every step; exits non-zero at the first unexpected status.
set -euo pipefail

FLEET_URL=${FLEET_URL:-http://127.0.0.1:8001}
AUDIT_URL=${AUDIT_URL:-http://127.0.0.1:8005}
EMAIL=${DEMO_USER_EMAIL:-demo@fleet.example}
PASSWORD=${DEMO_USER_PASSWORD:-demo-password}
AUDIT_WAIT_SECONDS=${AUDIT_WAIT_SECONDS:-30}
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
