#!/usr/bin/env bash
# End-to-end walk through fleet-api, the audit trail, bakery-service and dispatch-service, against a running
# stack (local or compose). The dispatch steps use the day's lists that `make day` stores, or upload a small day.
#   FLEET_URL (default http://127.0.0.1:8001), AUDIT_URL (default http://127.0.0.1:8005),
#   DEMO_USER_EMAIL, DEMO_USER_PASSWORD or DEMO_USER_PASSWORD_FILE (default: under compose the file compose
#   gives fleet-api, secrets/demo_user_password.txt; else fleet-api's default), AUDIT_WAIT_SECONDS (default 30),
#   BAKERY_URL (default http://127.0.0.1:8004), MAIL_URL (the SMTP sink's inbox, Mailpit under compose and
#   MailDev on the local stack; default http://127.0.0.1:8025),
#   BAKERY_WAIT_SECONDS (default 30), DISPATCH_URL (default http://127.0.0.1:8000), DISPATCH_DATE (default
#   today, UTC), RETRY_SECONDS (default 60: how long a 503 is retried, as its Retry-After says).
# Needs curl and python3. Prints every step; exits non-zero at the first unexpected status.
set -euo pipefail

FLEET_URL=${FLEET_URL:-http://127.0.0.1:8001}
AUDIT_URL=${AUDIT_URL:-http://127.0.0.1:8005}
EMAIL=${DEMO_USER_EMAIL:-demo@fleet.example}
# Under compose fleet-api reads the demo password from the secret file make_secrets.sh made (random), not
# fleet-api's default.
if [[ -z ${DEMO_USER_PASSWORD:-} && -z ${DEMO_USER_PASSWORD_FILE:-} ]] && command -v docker >/dev/null 2>&1 &&
    [[ -n $(cd "$(dirname "$0")/.." && docker compose ps -q --status running fleet-api 2>/dev/null) ]]; then
    DEMO_USER_PASSWORD_FILE=$(dirname "$0")/../secrets/demo_user_password.txt
fi
if [[ -z ${DEMO_USER_PASSWORD:-} && -n ${DEMO_USER_PASSWORD_FILE:-} ]]; then
    DEMO_USER_PASSWORD=$(cat "$DEMO_USER_PASSWORD_FILE") || { echo "cannot read $DEMO_USER_PASSWORD_FILE" >&2; exit 1; }
fi
PASSWORD=${DEMO_USER_PASSWORD:-demo-password}
AUDIT_WAIT_SECONDS=${AUDIT_WAIT_SECONDS:-30}
DISPATCH_URL=${DISPATCH_URL:-http://127.0.0.1:8000}
DISPATCH_DATE=${DISPATCH_DATE:-$(date -u +%F)}
RUN=$(date +%s)-$$
BODY=$(mktemp)
HEADERS=$(mktemp)
trap 'rm -f "$BODY" "$HEADERS"' EXIT

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
# A 503 (a backing server restarting) is sent again after its Retry-After, for up to RETRY_SECONDS.
call() {
    local expected=$1 method=$2 url=$3 data=${4:-}
    local args=(-sS -o "$BODY" -D "$HEADERS" -w '%{http_code}' -X "$method" "$url")
    [[ -n ${TOKEN:-} ]] && args+=(-H "Authorization: Bearer $TOKEN")
    [[ -n $data ]] && args+=(-H 'Content-Type: application/json' --data "$data")
    echo "> $method $url ${data}"
    local status wait deadline=$((SECONDS + ${RETRY_SECONDS:-60}))
    while :; do
        status=$(curl "${args[@]}") || fail "$method $url: no answer"
        grep -i -E '^(x-cache|location):' "$HEADERS" >&2 || true
        [[ $status == 503 && $expected != 503 && SECONDS -lt deadline ]] || break
        wait=$(tr -d '\r' <"$HEADERS" | awk -F': ' 'tolower($1)=="retry-after"{print $2+0}')
        echo "< 503, again in ${wait:-1}s: $(head -c 300 "$BODY")"
        sleep "${wait:-1}"
    done
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

# --- bakery-service ------------------------------------------------------------------------------------------
BAKERY_URL=${BAKERY_URL:-http://127.0.0.1:8004}
MAIL_URL=${MAIL_URL:-http://127.0.0.1:8025}
BAKERY_WAIT_SECONDS=${BAKERY_WAIT_SECONDS:-30}

# inbox_has RECIPIENT: the SMTP sink's inbox, whichever runs, holds a message to RECIPIENT (waits for it up to
# BAKERY_WAIT_SECONDS). Mailpit (compose) lists messages at /api/v1/messages, MailDev (local stack) at /api/email.
inbox_has() {
    local recipient=$1 api='' path deadline=$((SECONDS + BAKERY_WAIT_SECONDS))
    for path in /api/v1/messages /api/email; do
        if curl -fsS -o "$BODY" "$MAIL_URL$path" 2>/dev/null; then api=$path; break; fi
    done
    [[ -n $api ]] || fail "no inbox answers at $MAIL_URL (Mailpit: /api/v1/messages, MailDev: /api/email)"
    while ! python3 -c 'import json,sys
data = json.load(open(sys.argv[1]))
items = data["messages"] if isinstance(data, dict) else data  # Mailpit: {"messages": [...]}; MailDev: [...]
to = {(a.get("Address") or a.get("address") or "").lower() for m in items for a in (m.get("To") or m.get("to") or [])}
sys.exit(0 if sys.argv[2].lower() in to else 1)' "$BODY" "$recipient"; do
        ((SECONDS < deadline)) || fail "no e-mail to $recipient in the inbox at $MAIL_URL$api after ${BAKERY_WAIT_SECONDS}s"
        sleep 1
        curl -fsS -o "$BODY" "$MAIL_URL$api" || fail "the inbox at $MAIL_URL$api stopped answering"
    done
    echo "the e-mail to $recipient is in the inbox: $MAIL_URL$api"
}

step "10. bakery: the chocolate cake (created unless an earlier run did)"
if [[ $(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BAKERY_URL/cakes/chocolate_cake") == 404 ]]; then
    call 201 POST "$BAKERY_URL/cakes" \
        '{"name":"Chocolate Cake","ingredients":{"chocolate":33.5,"butter":16.5,"flour":8.5,"sugar":16.5,"eggs":1}}'
fi
call 200 GET "$BAKERY_URL/cakes/chocolate_cake"

step "11. bakery: the brief's order (4 persons, 2 cakes, 10 peanuts) needs 268 g of chocolate"
call 201 POST "$BAKERY_URL/orders" \
    '{"customer":"Mr Cakelover","recipe":"chocolate_cake","persons":4,"quantity":2,"extra_ingredients":{"peanuts":10}}'
ORDER_ID=$(field id)
[[ $(field required_ingredients.0.display) == "268 g" && $(field required_ingredients.4.display) == 8 ]] \
    || fail "order $ORDER_ID needs $(field required_ingredients)"
echo "order $ORDER_ID needs: $(python3 -c 'import json,sys; print(", ".join(i["ingredient"] + " " + i["display"] for i in json.load(open(sys.argv[1]))["required_ingredients"]))' "$BODY")"

step "12. bakery: the Jira batch takes the waiting orders; running it again takes none"
call 200 POST "$BAKERY_URL/batches/run"
call 200 POST "$BAKERY_URL/batches/run"
[[ $(field batch_id) == None ]] || fail "the second batch run took orders again"

step "13. bakery: mark the order ready (Slack, else e-mail to mr_cakelover@gmail.com)"
call 200 POST "$BAKERY_URL/orders/$ORDER_ID/ready"
call 200 GET "$BAKERY_URL/integrations"
if python3 -c 'import json,sys; sys.exit(0 if any(i["name"] in ("slack", "email") and i["configured"] for i in json.load(open(sys.argv[1]))["items"]) else 1)' "$BODY"; then
    deadline=$((SECONDS + BAKERY_WAIT_SECONDS))
    while :; do
        call 200 GET "$BAKERY_URL/orders/$ORDER_ID" >/dev/null
        [[ $(field ready.state) == sent ]] && break
        ((SECONDS < deadline)) || fail "the ready notice of order $ORDER_ID was not sent within ${BAKERY_WAIT_SECONDS}s"
        sleep 1
    done
    echo "ready notice: $(field ready.channel) to $(field ready.recipient) at $(field ready.notified_at)"
    if [[ $(field ready.channel) == email ]]; then
        inbox_has "$(field ready.recipient)"
    fi
else
    echo "neither Slack nor e-mail is configured: the notice waits in the outbox (see step 15)"
fi

step "14. bakery: cancel a second order; cancelling again changes nothing"
call 201 POST "$BAKERY_URL/orders" '{"customer":"Ms Delicious","recipe":"chocolate_cake","persons":2,"quantity":1}'
SECOND_ORDER_ID=$(field id)
call 200 DELETE "$BAKERY_URL/orders/$SECOND_ORDER_ID"
CANCELLED_AT=$(field cancelled_at)
call 200 DELETE "$BAKERY_URL/orders/$SECOND_ORDER_ID"
[[ $(field cancelled_at) == "$CANCELLED_AT" ]] || fail "cancelling twice changed order $SECOND_ORDER_ID"

step "15. bakery: the integrations' states (configured, pending, failed, last result)"
call 200 GET "$BAKERY_URL/integrations"
python3 -c 'import json,sys
for i in json.load(open(sys.argv[1]))["items"]:
    last = i["last_result"] or {}
    print("%-7s configured=%-5s pending=%s failed=%s last=%s:%s" % (i["name"], i["configured"], i["pending"],
          i["failed"], last.get("action", "-"), last.get("state", "-")))' "$BODY"

printf '\nAll bakery-service steps passed; its web page: %s/\n' "$BAKERY_URL"

step "16. dispatch: the day's lists are there (make day stores generated ones; else a small day is uploaded)"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$DISPATCH_URL/days/$DISPATCH_DATE/manifest") \
    || fail "dispatch-service at $DISPATCH_URL does not answer"
if [[ $status == 404 ]]; then
    echo "no lists for $DISPATCH_DATE yet (make day would store generated ones): uploading a small day"
    call 201 POST "$DISPATCH_URL/days/$DISPATCH_DATE/manifest" "$(python3 -c 'import json, uuid
drivers = [{"driver_id": "driver_1", "rules": {"regions": ["north"], "max_weight": 30}},
           {"driver_id": "driver_2", "rules": {"temperature_control": True, "hazmat_classes": ["3"]}}]
packages = [{"package_id": str(uuid.uuid4()), "weight": 5.0 + i, "volume": 20.0, "region": "north" if i % 2 else "south",
             "distance": 10.0 + i, "perishable": i == 3, "hazmat_class": "3" if i == 4 else None,
             "destination": f"{i + 1} Main St"} for i in range(6)]
print(json.dumps({"drivers": drivers, "packages": packages}))')"
else
    [[ $status == 200 ]] || fail "GET /days/$DISPATCH_DATE/manifest answered $status"
    echo "lists of $DISPATCH_DATE found"
fi

step "17. dispatch: assign the day's packages to driver_1 and driver_2, at most 2 each (the same request again answers the same)"
call 200 POST "$DISPATCH_URL/assign" "{\"driver_ids\":[\"driver_1\",\"driver_2\"],\"max_per_driver\":2,\"date\":\"$DISPATCH_DATE\"}"
read -r DRIVER PACKAGE < <(python3 -c 'import json,sys
assignments = json.load(open(sys.argv[1]))["assignments"]
print(next((f"{d} {ps[0]}" for d, ps in assignments.items() if ps), ""))' "$BODY")
[[ -n ${PACKAGE:-} ]] || fail "neither driver_1 nor driver_2 got a package on $DISPATCH_DATE (all taken? try another DATE)"
echo "$DRIVER carries $PACKAGE"

step "18. dispatch: $DRIVER starts the delivery of $PACKAGE; an unknown pair is 404"
call 200 POST "$DISPATCH_URL/update" "{\"driver_id\":\"$DRIVER\",\"package_id\":\"$PACKAGE\",\"status\":\"in_progress\"}"
call 404 POST "$DISPATCH_URL/update" "{\"driver_id\":\"$DRIVER\",\"package_id\":\"no-such-package\",\"status\":\"accepted\"}"

step "19. dispatch: read the day's assignments of $DRIVER back"
call 200 GET "$DISPATCH_URL/assignments?driver_id=$DRIVER&date=$DISPATCH_DATE&limit=10"

printf '\nAll dispatch-service steps passed.\n'
