"""Gathers what each benchmark recorded (bench/results/<name>.json) into bench/results/results.json and the one
table, bench/results/README.md: every figure beside its baseline from the same run and its target.

    python scripts/bench_report.py --started <ISO time> --load "<1, 5, 15 min load before the run>" \
        --failed "<benchmarks that failed>"
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGETS = {
    "P1": "fleet-api GET /loads: >= 0.9x a bare Flask endpoint (wrk); plumbing <= 30 us in-process",
    "P2": "dispatch /assign 1,000 x 50,000: the maximum, in <= 2x greedy's time; 10x pairs in <= 12x time; "
    "adversarial 2,000 x 200,000 (continuous limits): the maximum in <= 10 s and <= 2 GB",
    "P3": "DynamoDB writes of one /assign: batched >= 10x single puts (AWS twin)",
    "P4": "extraction, both portals concurrently <= 1.3x the slower alone; browser <= 600 MB",
    "P5": "gpt-service own overhead <= 10 ms p50 for 100 loads; prompt size sublinear past 200 loads",
    "P6": "one dispatch /assign end to end, 1,000 x 20,000: <= 2x a bare BatchWriteItem of its items, same endpoint",
    "R11": "/assign under any interleaving: 0 invariant breaches; 8 concurrent callers all answered within 60 s",
}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        # The benchmarks rewrite their own pages under bench/results/: only changes elsewhere make the commit inexact.
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench/results"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--started", required=True)
    parser.add_argument("--load", required=True)
    parser.add_argument("--failed", default="")
    args = parser.parse_args()
    benchmarks = []
    for path in sorted(RESULTS.glob("*.json")):
        if path.name == "results.json":
            continue
        document = json.loads(path.read_text())
        # Only what this run produced: an older file from another run would put a stale figure in the table.
        if document["finished"] < args.started:
            continue
        benchmarks.append(document)
    failed = [name for name in args.failed.split() if name]
    machine = {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "load_average_before": [float(x) for x in args.load.split()],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }
    results = {
        "started": args.started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": machine,
        "quick": bool(os.environ.get("BENCH_QUICK")),
        "failed": failed,
        "benchmarks": benchmarks,
    }
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    rows = []
    for document in benchmarks:
        for f in document["figures"]:
            verdict = "met" if f["met"] else f"**missed** ({f['gap']})" if f["gap"] else "**missed**"
            if f["goal"].startswith("reported"):
                verdict = "reported"
            rows.append(
                f"| {f['target']} | {f['what']} | {_number(f['value'])} {f['unit']} | "
                f"{f['baseline_what']}{'' if f['baseline'] is None else ': ' + _number(f['baseline'])} | "
                f"{f['goal']} | {verdict} | "
                f"[{document['benchmark']}]({document['benchmark']}.md) |"
            )
    load_before = ", ".join(f"{x:.2f}" for x in machine["load_average_before"])
    load_after = ", ".join(f"{x:.2f}" for x in machine["load_average_after"])
    mode = (
        "quick mode (BENCH_QUICK=1: fewer and shorter rounds; not the figures to quote)"
        if results["quick"]
        else "full run"
    )
    text = f"""# Benchmark results

`make bench` ({mode}), {args.started} to {results["finished"]}, commit `{results["commit"]}`.
Machine: {machine["cores"]} cores ({machine["cpu_model"]}), {machine["system"]}, Python {machine["python"]}; load
average (1, 5, 15 min) {load_before} before the run and {load_after} after. Every figure is compared with a
baseline measured in the same run on the same machine; each benchmark's own page has the rounds and the method.

| target | figure | value | baseline (same run) | target | verdict | details |
| --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

Targets (docs: TARGETS.md of the suite):

{chr(10).join(f"- {key}: {value}" for key, value in TARGETS.items())}
"""
    if failed:
        text += f"\nFailed in this run (no figures): {', '.join(failed)}.\n"
    (RESULTS / "README.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
