#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, each writing its results (with the machine noted) to bench/results/
# (dispatch: bench/dispatch_assign.py for P2, bench/dispatch_dynamodb.py for P3).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
mkdir -p bench/results
status=0
for bench in bench/*.py; do
    echo "== $bench"
    .venv/bin/python "$bench" || { echo "benchmark $bench failed" >&2; status=1; }
done
exit $status
