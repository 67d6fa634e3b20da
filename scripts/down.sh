#!/usr/bin/env bash
# `make down`: stops what `make up` started, compose or local stack.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -S .local/supervisor.sock || -f .local/supervisord.pid || -f .local/postgres/postmaster.pid ]]; then
    exec .venv/bin/python scripts/localstack.py down
fi
if command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1; then
    exec docker compose down
fi
echo "nothing to stop"
