#!/usr/bin/env bash
# `make logs`: the running stack's logs (followed on a terminal).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -d .local/logs ]]; then
    exec .venv/bin/python scripts/localstack.py logs
fi
exec docker compose logs -f --tail=100
