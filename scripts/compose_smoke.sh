#!/usr/bin/env bash
# `make compose-smoke`: the whole suite under docker compose, as a person would start it, then the demo.
# Needs a Docker engine (CI's compose-smoke job); the logs of a failed run are kept in .local/compose-logs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker >/dev/null 2>&1 || ! timeout 5 docker info >/dev/null 2>&1; then
    echo "compose-smoke needs a Docker engine, and none answers here (the local stack is 'make up')." >&2
    exit 2
fi
logs=.local/compose-logs
cleanup() {
    status=$?
    if ((status)); then
        mkdir -p "$logs"
        docker compose ps --all > "$logs/ps.txt" 2>&1 || true
        docker compose logs --no-color --timestamps > "$logs/compose.log" 2>&1 || true
        echo "compose-smoke failed; logs in $logs"
    fi
    docker compose down -v --remove-orphans || true
    exit "$status"
}
trap cleanup EXIT
scripts/make_secrets.sh
docker compose up -d --build --wait --wait-timeout 900
# The demo logs in with the password compose gives fleet-api (its DEMO_USER_PASSWORD_FILE secret); the inbox
# it checks is Mailpit's, published on :8025.
DEMO_USER_PASSWORD_FILE=secrets/demo_user_password.txt MAIL_URL=http://127.0.0.1:8025 scripts/test_endpoints.sh
