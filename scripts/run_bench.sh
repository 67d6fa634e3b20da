#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, then one results file (bench/results/results.json) and one table
# (bench/results/README.md) from what each recorded. BENCH_QUICK=1 runs fewer, shorter rounds (a check that
# everything runs, e.g. on a fresh clone); the committed figures come from a full run.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
mkdir -p bench/results
started=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)
read -r load1 load5 load15 _ </proc/loadavg
if [[ -n "${BENCH_QUICK:-}" ]]; then
    export BENCH_ROUNDS="${BENCH_ROUNDS:-1}" BENCH_SECONDS="${BENCH_SECONDS:-2}" BENCH_ITEMS="${BENCH_ITEMS:-300}"
    export BENCH_REQUESTS="${BENCH_REQUESTS:-50}"
fi
failed=()
for bench in bench/*.py; do
    echo "== $bench"
    .venv/bin/python "$bench" || { echo "benchmark $bench failed" >&2; failed+=("$(basename "$bench" .py)"); }
done
.venv/bin/python scripts/bench_report.py --started "$started" --load "$load1 $load5 $load15" --failed "${failed[*]:-}"
[[ ${#failed[@]} -eq 0 ]]
