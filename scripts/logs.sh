#!/usr/bin/env bash
# `make logs`: the running stack's logs (followed on a terminal); `make logs SERVICE=fleet-relay`: one process's.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -d .local/logs ]]; then
    exec .venv/bin/python scripts/localstack.py logs ${SERVICE:+"$SERVICE"}
fi
exec docker compose logs -f --tail=100 ${SERVICE:+"$SERVICE"}
