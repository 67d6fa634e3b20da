#!/usr/bin/env bash
# `make up`: Docker Compose when an engine answers, otherwise the local stack (same ports, same config).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1; then
    echo "Docker engine found: starting the suite with docker compose."
    echo "Note: LocalStack keeps no data across a restart of its container; dispatch's assignments and manifests go with it (README: Running with Docker Compose)."
    scripts/make_secrets.sh
    exec docker compose up -d --build --wait
fi
exec .venv/bin/python scripts/localstack.py up
