"""servicekit's gunicorn worker against gunicorn's own threaded worker (gthread), side by side.

The same bare Flask endpoint (bench/fleet/bare_app.py, 4 KB of JSON) under the suite's gunicorn settings
(2 workers x 4 threads), once with servicekit's ``GuardedThreadWorker`` (every request collected in the
worker's event loop before a thread takes it, a read deadline, the Host check) and once with gunicorn's
``gthread``. wrk on one CPU and the servers on the others, as in bench/fleet_loads.py; the two take turns
for several rounds, with kept-alive connections (as services call each other) and with a new connection per
request (``Connection: close``), and each figure is the median of the per-round ratios. The CPU time the
workers spend per request is reported beside it: a machine busy with something else delays requests (and
so lowers req/s) far more than it adds CPU time to them.

    .venv/bin/python bench/servicekit_worker.py [--seconds 5] [--rounds 5]   # writes bench/results/servicekit_worker.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchkit import Figure, record  # bench/ is on the path of a script run from it
from fleet_loads import CPUS, GUNICORN, MAX_IDLE, RETRIES, WRK_CPU, pin_servers, server_idle, start
from testkit.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "servicekit_worker.md"
GOAL = 0.95  # no slower than gthread, within what rounds on a shared machine vary by
VARIANTS = {"servicekit": "gunicorn_bare.conf.py", "gthread": "gunicorn_bare_gthread.conf.py"}
MODES = {"keep-alive": [], "new connection per request": ["-H", "Connection: close"]}


TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def cpu_ticks(master_pid: int) -> int:
    """User and system CPU time of a gunicorn master's workers (all their threads), in clock ticks."""
    total = 0
    for task in Path(f"/proc/{master_pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def wrk(url: str, seconds: int, connections: int, extra: list[str], master_pid: int) -> dict[str, float]:
    for _attempt in range(RETRIES + 1):
        idle_before, total_before = server_idle()
        ticks_before = cpu_ticks(master_pid)
        command = [
            *(["taskset", "-c", str(WRK_CPU)] if WRK_CPU is not None else []),
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            *extra,
            url,
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        ticks = cpu_ticks(master_pid) - ticks_before
        idle_after, total_after = server_idle()
        if (idle_after - idle_before) / max(1, total_after - total_before) <= MAX_IDLE:
            break
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"{url}: error responses\n{out}")
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p99": float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit],
        # CPU time the workers spent per request: what a busy machine inflates least (it delays, not adds).
        "cpu_us": ticks * TICK_US / max(1, requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "5")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "5")))
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk, or make setup)")
    work = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    loads = [
        {"id": f"{i:08d}-0000-4000-8000-000000000000", "origin": f"City {i}", "destination": "Dallas, TX"}
        for i in range(20)
    ]
    (work / "body.json").write_text(json.dumps({"items": loads * 3, "total": 60}))
    pin_servers()
    procs = []
    try:
        urls, masters = {}, {}
        for name, config in VARIANTS.items():
            port = free_port()
            env = {
                **os.environ,
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "BENCH_BODY_FILE": str(work / "body.json"),
                "PROMETHEUS_MULTIPROC_DIR": str(work / f"metrics-{name}"),
            }
            procs.append(start([GUNICORN, "-c", config], ROOT / "bench" / "fleet", env, port))
            urls[name] = f"http://127.0.0.1:{port}/loads"
            masters[name] = procs[-1].pid
        for name, url in urls.items():
            for extra in MODES.values():
                wrk(url, 2, args.connections, extra, masters[name])  # warm-up
        runs = {(mode, name): [] for mode in MODES for name in VARIANTS}
        for round_index in range(args.rounds):
            for mode, extra in MODES.items():
                order = list(VARIANTS) if round_index % 2 == 0 else list(reversed(VARIANTS))
                for name in order:
                    runs[mode, name].append(wrk(urls[name], args.seconds, args.connections, extra, masters[name]))
                    print(f"round {round_index + 1} {mode} {name}: {runs[mode, name][-1]['rps']:.0f} req/s", flush=True)
        write_results(runs, args)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


def write_results(runs: dict, args: argparse.Namespace) -> None:
    load = os.getloadavg()
    lines = [
        "# servicekit's gunicorn worker vs gunicorn's gthread",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {len(CPUS)} CPUs ({platform.machine()}), "
        f"load average after the run {load[0]:.1f}. The bare endpoint (4 KB) under the suite's gunicorn settings, "
        f"2 workers x 4 threads; wrk -t2 -c{args.connections}, {args.rounds} rounds of {args.seconds} s per "
        f"variant and mode, taken in turns; wrk on CPU {WRK_CPU}, the servers on the others.",
        "",
        "| connections | servicekit worker req/s | gthread req/s | ratio (median of rounds) | p99 ms, kit / gthread "
        "| worker CPU us per request, kit / gthread |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    figures = []
    for mode in MODES:
        kit, stock = runs[mode, "servicekit"], runs[mode, "gthread"]
        ratio = statistics.median(k["rps"] / s["rps"] for k, s in zip(kit, stock, strict=True))
        kit_rps, stock_rps = statistics.median(r["rps"] for r in kit), statistics.median(r["rps"] for r in stock)
        p99 = f"{statistics.median(r['p99'] for r in kit):.2f} / {statistics.median(r['p99'] for r in stock):.2f}"
        cpu_kit, cpu_stock = (statistics.median(r["cpu_us"] for r in rs) for rs in (kit, stock))
        lines.append(
            f"| {mode} | {kit_rps:.0f} | {stock_rps:.0f} | {ratio:.2f}x | {p99} | {cpu_kit:.0f} / {cpu_stock:.0f} |"
        )
        figures.append(
            Figure(
                "P1",
                f"servicekit's gunicorn worker, bare endpoint, {mode} (wrk)",
                round(ratio, 2),
                f"x gthread ({kit_rps:.0f} req/s)",
                "gunicorn's gthread, same endpoint and settings, req/s",
                round(stock_rps),
                f">= {GOAL}x gthread",
                ratio >= GOAL,
                "" if ratio >= GOAL else f"missed by {GOAL - ratio:.2f}",
            )
        )
        figures.append(
            Figure(
                "P1",
                f"servicekit's gunicorn worker, CPU per request, {mode}",
                round(cpu_kit - cpu_stock, 1),
                f"us more than gthread ({cpu_kit:.0f} us)",
                "gunicorn's gthread, worker CPU us per request",
                round(cpu_stock, 1),
                "reported",
                True,
            )
        )
    lines += ["", f"Python {sys.version.split()[0]}; per-round req/s:", ""]
    for (mode, name), values in runs.items():
        rates = ", ".join(f"{r['rps']:.0f}" for r in values)
        lines.append(f"- {mode}, {name}: {rates}")
    RESULTS.write_text("\n".join(lines) + "\n")
    record("servicekit_worker", figures)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
