#!/usr/bin/env bash
# `make up`: Docker Compose when an engine answers, otherwise the local stack (same ports, same config).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1; then
    echo "Docker engine found: starting the suite with docker compose."
    echo "Note: LocalStack keeps no data across a restart of its container; dispatch's assignments and manifests go with it (README: Running with Docker Compose)."
    scripts/make_secrets.sh
    docker compose up -d --build --wait
    echo "Dashboards (Grafana): http://localhost:3000/   Prometheus: http://localhost:9090/"
    exit 0
fi
exec .venv/bin/python scripts/localstack.py up
