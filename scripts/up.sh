#!/usr/bin/env bash
# `make up`: Docker Compose when an engine answers, otherwise the local stack (same ports, same config).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1; then
    echo "Docker engine found: starting the suite with docker compose."
    scripts/make_secrets.sh
    exec docker compose up -d --build --wait
fi
exec .venv/bin/python scripts/localstack.py up
