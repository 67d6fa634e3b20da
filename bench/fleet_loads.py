"""P1: fleet-api's ``GET /loads`` with a warm cache against a bare Flask endpoint returning the same bytes.

Every variant runs under the same gunicorn settings (servicekit's: 2 workers x 4 threads unless
WEB_CONCURRENCY/GUNICORN_THREADS say otherwise) on a throwaway Postgres and Redis, and is measured
with wrk on loopback, authenticated like a client would be, wrk on one CPU and the servers on the others.
The variants take turns, several rounds, and each figure is the median of its rounds, so a machine busy
with something else hurts all alike.

- bare:    a plain Flask app returning the bytes of the warm response (the P1 reference)
- kit:     the same bytes from a servicekit app (JWT check with revocation, request id, access log, metrics),
           no cache: what the suite's shared plumbing costs by itself
- warm:    fleet-api, LOADS_CACHE_MODE=local (per-process copy, Redis-pushed invalidation) - shipped
- redis:   fleet-api, LOADS_CACHE_MODE=redis (one Redis GET per request: the naive cache)
- cold:    fleet-api, LOADS_CACHE_MODE=off (Postgres on every request)

    .venv/bin/python bench/fleet_loads.py [--seconds 5] [--rounds 5]   # writes bench/results/fleet_loads.md
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import requests
from benchkit import Figure, record  # bench/ is on the path of a script run from it
from sqlalchemy import create_engine, text
from testkit.servers import PostgresCluster, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "fleet_loads.md"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
JWT_SECRET = "bench-secret-for-loopback-only-0123456789"  # noqa: S105 - a throwaway server's key
TARGET = 0.9
PLUMBING_TARGET_US = 30.0
REVOCATION_TARGET_US = 5.0
BENCH_EMAIL, BENCH_PASSWORD = "bench@fleet.example", "bench-password"
IN_PROCESS_ROUNDS = 40


def start(cmd: list[str], cwd: Path, env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, timeout=60, proc=proc)
    return proc


def wait_ready(url: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(url, headers=headers, timeout=30).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} never answered 200")


# wrk and the servers split the machine: wrk on the last CPU, every server (gunicorn, Postgres, Redis) on the
# others. Sharing CPUs, the figures measured how the scheduler split them: wrk starved, and keep-alive
# connections piled on one gunicorn worker (they stay with the worker that accepted them), seen here as
# rounds at a third of the rate for every variant alike. Split, a round measures what the servers spend.
CPUS = sorted(os.sched_getaffinity(0))
WRK_CPU = CPUS[-1] if len(CPUS) > 1 and shutil.which("taskset") else None
SERVER_CPUS = set(CPUS) - {WRK_CPU}


def pin_servers() -> None:
    """Every process this benchmark starts from now on inherits the servers' CPUs."""
    os.sched_setaffinity(0, SERVER_CPUS)


def widen(pid: int) -> None:
    """A server's process, its threads and its children back on every CPU (for the whole-machine sweep)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), CPUS)
        for child in (task / "children").read_text().split():
            widen(int(child))


def server_idle() -> tuple[int, int]:
    idle = total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in SERVER_CPUS:
            ticks = [int(field) for field in fields]
            idle += ticks[3] + ticks[4]  # idle + iowait
            total += sum(ticks[:8])
    return idle, total


# A round in which the servers' CPUs sat idle this much measured something else than what a request
# costs (a worker waiting on wrk, a stall of the machine); it is run again.
MAX_IDLE = 0.15
RETRIES = 4


def wrk(
    url: str, token: str, seconds: int, connections: int, retried: Counter | None = None, pinned: bool = True
) -> dict[str, float]:
    for _attempt in range(RETRIES + 1):
        idle_before, total_before = server_idle()
        result = wrk_once(url, token, seconds, connections, pinned)
        idle_after, total_after = server_idle()
        result["idle"] = (idle_after - idle_before) / max(1, total_after - total_before)
        if not pinned or result["idle"] <= MAX_IDLE:
            break
        if retried is not None:
            retried[url] += 1
    return result


def wrk_once(url: str, token: str, seconds: int, connections: int, pinned: bool) -> dict[str, float]:
    command = [
        *(["taskset", "-c", str(WRK_CPU)] if pinned and WRK_CPU is not None else []),
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50": ms("50"), "p90": ms("90"), "p99": ms("99")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "5")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "5")))
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk, or make setup)")

    work = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    pin_servers()
    cluster = PostgresCluster()
    procs: list[subprocess.Popen] = []
    try:
        admin_url = cluster.start()
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        db_url = admin_url.rsplit("/", 1)[0] + "/bench"
        from suite_db import upgrade

        upgrade(db_url)
        add_bench_user(db_url)
        redis_port = free_port()
        procs.append(
            start(
                ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                work,
                dict(os.environ),
                redis_port,
            )
        )

        base_env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "DATABASE_URL": db_url,
            "JWT_SECRET": JWT_SECRET,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            # Token revocation on, as deployed: every variant's plumbing checks the user's token version.
            "AUTH_REDIS_URL": f"redis://127.0.0.1:{redis_port}/2",
            "DEMO_USER_PASSWORD": "",
            # INFO (the default) keeps servicekit's access line per request, as deployed.
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        }
        urls: dict[str, str] = {}
        for mode in ("local", "redis", "off"):
            port = free_port()
            env = {
                **base_env,
                "PORT": str(port),
                "LOADS_CACHE_MODE": mode,
                "PROMETHEUS_MULTIPROC_DIR": str(work / f"metrics-{mode}"),
            }
            procs.append(start([GUNICORN, "-c", "gunicorn.conf.py"], ROOT / "fleet-api", env, port))
            urls[{"local": "warm", "redis": "redis", "off": "cold"}[mode]] = f"http://127.0.0.1:{port}/loads"
        # A real user's token from the login, so that the revocation check finds its version.
        token = log_in(urls["warm"].removesuffix("/loads"))
        headers = {"Authorization": f"Bearer {token}"}
        wait_ready(urls["warm"], headers)
        for index in range(20):
            load = {"origin": f"City {index}", "destination": "Dallas, TX", "cargoType": "steel"}
            requests.post(urls["warm"], headers=headers, timeout=30, json=load).raise_for_status()
        body = requests.get(urls["warm"], headers=headers, timeout=30).content
        (work / "body.json").write_bytes(body)

        references = {}
        for name in ("bare", "servicekit"):
            port = free_port()
            env = {
                **base_env,
                "PORT": str(port),
                "BENCH_BODY_FILE": str(work / "body.json"),
                "PROMETHEUS_MULTIPROC_DIR": str(work / f"metrics-{name}"),
            }
            config = f"gunicorn_{name}.conf.py"
            procs.append(start([GUNICORN, "-c", config], ROOT / "bench" / "fleet", env, port))
            references["kit" if name == "servicekit" else name] = f"http://127.0.0.1:{port}/loads"
        urls = {**references, **urls}

        for name, url in urls.items():
            wait_ready(url, headers)
            answer = requests.get(url, headers=headers, timeout=30)
            assert answer.content == body, f"{name} does not return the same bytes"
            wrk(url, token, 2, args.connections)  # warm-up: workers, connections, caches
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
        retried: Counter[str] = Counter()
        names = list(urls)
        for round_index in range(args.rounds):
            # The order turns each round, so no variant always runs right after the heaviest one.
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                runs[name].append(wrk(urls[name], token, args.seconds, args.connections, retried))
                print(f"round {round_index + 1} {name}: {runs[name][-1]['rps']:.0f} req/s", flush=True)
        # The highest rate the machine sustains: the shipped variant alone (it does not touch Postgres), on every CPU,
        # wrk included, at rising concurrency.
        os.sched_setaffinity(0, CPUS)
        for proc in procs:
            widen(proc.pid)
        sweep = {c: wrk(urls["warm"], token, args.seconds, c, pinned=False) for c in (4, 16, 64)}
        sources = cache_sources(urls["warm"], headers)
        cpu = cpu_per_request(base_env, body, token)
        write_results(runs, args, len(body), cpu, sources, sweep, {name: retried[url] for name, url in urls.items()})
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def add_bench_user(db_url: str) -> None:
    from argon2 import PasswordHasher

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO fleet.users (name, email, password_hash, role) VALUES ('Bench', :email, :hash, 'user')"),
            {"email": BENCH_EMAIL, "hash": PasswordHasher().hash(BENCH_PASSWORD)},
        )
    engine.dispose()


def log_in(base_url: str) -> str:
    deadline = time.monotonic() + 90
    while True:
        try:
            answer = requests.post(
                f"{base_url}/auth/login", json={"email": BENCH_EMAIL, "password": BENCH_PASSWORD}, timeout=30
            )
            if answer.status_code == 200:
                return answer.json()["access_token"]
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{base_url}/auth/login never gave the bench user a token")
        time.sleep(0.3)


def cache_sources(url: str, headers: dict[str, str], samples: int = 40) -> Counter[str]:
    """Which tier answered the shipped variant after the rounds, over enough requests to reach every
    worker. Reported, never asserted: a worker whose local copy is cold (invalidation just pushed, or it
    took no request yet) answers from Redis, a slower path and not a failure of the benchmark."""
    seen: Counter[str] = Counter()
    for _ in range(samples):
        answer = requests.get(url, headers=headers, timeout=30)
        seen[f"{answer.headers.get('X-Cache', '?')} from {answer.headers.get('X-Cache-Source', '?')}"] += 1
    return seen


def cpu_per_request(env: dict[str, str], body: bytes, token: str) -> dict[str, float]:
    """Microseconds of Python per request, in-process through WSGI (no sockets, no gunicorn): where the
    time goes. The thread's CPU time rather than wall time, and the minimum of many rounds: other work on
    a shared machine delays a round but does not add CPU time to it."""
    import logging

    from flask import Flask, Response
    from werkzeug.test import EnvironBuilder

    os.environ.update({k: v for k, v in env.items() if k not in os.environ or k == "LOG_LEVEL"})
    from fleet_api import create_app
    from servicekit import ServiceSettings, verify_token
    from servicekit.app import REVOCATION_EXTENSION

    def constant() -> Response:
        return Response(body, mimetype="application/json")

    app = create_app()
    app.add_url_rule("/constant", "constant", constant)
    plain = Flask("plain")
    plain.add_url_rule("/loads", "loads", constant)
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the measurement
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    headers = {"Authorization": f"Bearer {token}"}

    def per_request(wsgi_app, path: str, n: int = 300) -> float:
        environ = EnvironBuilder(path=path, headers=headers).get_environ()
        started = time.thread_time()
        for _ in range(n):
            b"".join(wsgi_app(dict(environ), lambda *a: None))
        return (time.thread_time() - started) / n * 1e6

    settings = ServiceSettings(jwt_secret=JWT_SECRET)
    revocation = app.extensions[REVOCATION_EXTENSION]
    claims = verify_token(settings, token)
    assert revocation is not None, "AUTH_REDIS_URL is not set: the plumbing would be measured without revocation"
    samples: dict[str, list[float]] = {"bare": [], "kit": [], "warm": [], "jwt": [], "revocation": []}
    for _ in range(IN_PROCESS_ROUNDS):
        samples["bare"].append(per_request(plain.wsgi_app, "/loads"))
        samples["kit"].append(per_request(app.wsgi_app, "/constant"))
        samples["warm"].append(per_request(app.wsgi_app, "/loads"))
        started = time.thread_time()
        for _ in range(300):
            verify_token(settings, token)
        samples["jwt"].append((time.thread_time() - started) / 300 * 1e6)
        # The check every person's token passes on every service: drain the invalidation pushes (one poll(2)),
        # look the user's version up in the process's copy of the token versions.
        started = time.thread_time()
        for _ in range(3000):
            revocation.check(claims)
        samples["revocation"].append((time.thread_time() - started) / 3000 * 1e6)
    return {name: min(values) for name, values in samples.items()}


def write_results(
    runs: dict[str, list[dict[str, float]]],
    args: argparse.Namespace,
    body_size: int,
    cpu: dict[str, float],
    sources: Counter[str],
    sweep: dict[int, dict[str, float]],
    retried: dict[str, int],
) -> None:
    median = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    bare = median["bare"]["rps"]
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    labels = {
        "bare": "bare Flask endpoint, same bytes (reference)",
        "kit": "servicekit app endpoint, same bytes, no cache (shared plumbing only)",
        "warm": "fleet-api, warm cache (local copy + Redis invalidation push) - shipped",
        "redis": "fleet-api, one Redis GET per request (naive cache)",
        "cold": "fleet-api, cache off (Postgres every request)",
    }

    def per_round(name: str) -> str:
        return ", ".join(f"{r['rps']:.0f}" for r in runs[name])

    rows = "\n".join(
        f"| {labels[name]} | {m['rps']:.0f} | {m['rps'] / bare:.2f}x | {m['p50']:.2f} | {m['p90']:.2f} | "
        f"{m['p99']:.2f} | {per_round(name)} |"
        for name, m in median.items()
    )
    # Per-round ratios: the variants of one round ran back to back, so drift of a shared machine cancels out.
    ratio = statistics.median(w["rps"] / b["rps"] for w, b in zip(runs["warm"], runs["bare"], strict=True))
    verdict = "met" if ratio >= TARGET else f"missed by {TARGET - ratio:.2f}"
    plumbing = cpu["kit"] - cpu["bare"]
    plumbing_verdict = "met" if plumbing <= PLUMBING_TARGET_US else f"missed by {plumbing - PLUMBING_TARGET_US:.0f} us"
    revocation_met = cpu["revocation"] <= REVOCATION_TARGET_US
    revocation_verdict = "met" if revocation_met else f"missed by {cpu['revocation'] - REVOCATION_TARGET_US:.1f} us"
    sweep_rows = "\n".join(f"| {c} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} |" for c, r in sweep.items())
    best_c, best = max(sweep.items(), key=lambda item: item[1]["rps"])
    answered = ", ".join(f"{count} {source}" for source, count in sources.most_common())
    local_only = set(sources) == {"HIT from local"}
    tier_note = (
        "every request answered from the workers' local copies"
        if local_only
        else "not every request came from a local copy: a worker whose copy was cold answered from the next tier"
    )
    workers, threads = os.environ.get("WEB_CONCURRENCY", "2"), os.environ.get("GUNICORN_THREADS", "4")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"""# fleet-api GET /loads throughput (P1)

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs ({cpu_model}), load average before the run
{os.getloadavg()[0]:.1f}. gunicorn {workers} workers x {threads} threads (gthread) for every variant; wrk -t2
-c{args.connections}, {args.rounds} rounds of {args.seconds} s per variant taken in turns, medians shown;
authenticated requests; the page is 20 loads ({body_size} bytes). wrk runs on CPU {WRK_CPU}, every server on
CPU(s) {", ".join(map(str, sorted(SERVER_CPUS)))} (the sweep below excepted), so each round measures what the
servers spend.
fleet-api's LOG_LEVEL={os.environ.get("BENCH_LOG_LEVEL", "INFO")} (INFO: one JSON access line per request).

| variant | req/s | vs bare | p50 ms | p90 ms | p99 ms | req/s per round |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

P1 (warm >= {TARGET}x bare, median of per-round ratios): **{ratio:.2f}x**, {verdict}.
Rounds run again because the servers' CPUs were more than {MAX_IDLE:.0%} idle (the round measured a stall, not the
requests): {", ".join(f"{name} {count}" for name, count in retried.items())}.
P1 (servicekit plumbing <= {PLUMBING_TARGET_US:.0f} us in-process, token revocation included): **{plumbing:.0f} us**, \
{plumbing_verdict}; of which the token revocation check (<= {REVOCATION_TARGET_US:.0f} us): \
**{cpu["revocation"]:.1f} us**, {revocation_verdict}.
Cache tiers of the shipped variant after the rounds, {sum(sources.values())} requests: {answered} ({tier_note}).
Naive Redis GET per request: {median["redis"]["rps"] / bare:.2f}x; cold (Postgres): \
{median["cold"]["rps"] / bare:.2f}x. The servicekit endpoint with the same plumbing and no cache at all
reaches {median["kit"]["rps"] / bare:.2f}x; the warm cache keeps \
{median["warm"]["rps"] / median["kit"]["rps"]:.2f}x of that.

## The highest rate: fleet-api warm GET /loads alone, one run of {args.seconds} s per concurrency

| wrk connections | req/s | p50 ms | p99 ms |
| --- | --- | --- | --- |
{sweep_rows}

## Where a warm request's time goes (in-process, WSGI only, thread CPU time, min of {IN_PROCESS_ROUNDS} rounds)

| what | us per request |
| --- | --- |
| bare Flask endpoint | {cpu["bare"]:.0f} |
| servicekit endpoint (request id, JWT check with revocation, access log, metrics), same bytes | {cpu["kit"]:.0f} |
| fleet-api warm GET /loads | {cpu["warm"]:.0f} |
| of which servicekit's `verify_token` alone | {cpu["jwt"]:.0f} |
| of which the token revocation check alone (`TokenVersions.check`: one poll(2), one lookup) | {cpu["revocation"]:.1f} |

The cache's own share is the last step ({cpu["warm"] - cpu["kit"]:.0f} us: query validation, the local lookup
with one poll of the invalidation connection, the ETag/X-Cache headers); the shared plumbing costs
{cpu["kit"] - cpu["bare"]:.0f} us on every authenticated endpoint of the suite.
""")
    print(RESULTS.read_text())
    redis_ratio = statistics.median(r["rps"] / b["rps"] for r, b in zip(runs["redis"], runs["bare"], strict=True))
    record(
        "fleet_loads",
        [
            Figure(
                "P1",
                "fleet-api warm GET /loads throughput (wrk, gunicorn)",
                round(median["warm"]["rps"]),
                "req/s",
                "bare Flask endpoint, same bytes, same gunicorn",
                round(bare),
                f">= {TARGET}x bare (median of per-round ratios)",
                ratio >= TARGET,
                "" if ratio >= TARGET else f"{ratio:.2f}x, missed by {TARGET - ratio:.2f}",
            ),
            Figure(
                "P1",
                "servicekit per-request plumbing, in-process",
                round(plumbing, 1),
                f"us added (servicekit endpoint {cpu['kit']:.0f} us per request)",
                "bare Flask endpoint, us per request",
                round(cpu["bare"], 1),
                f"<= {PLUMBING_TARGET_US:.0f} us added",
                plumbing <= PLUMBING_TARGET_US,
                "" if plumbing <= PLUMBING_TARGET_US else f"missed by {plumbing - PLUMBING_TARGET_US:.0f} us",
            ),
            Figure(
                "P1",
                "token revocation check (servicekit TokenVersions.check), in-process",
                round(cpu["revocation"], 2),
                "us per check (included in the plumbing figure)",
                "servicekit per-request plumbing, us added",
                round(plumbing, 1),
                f"<= {REVOCATION_TARGET_US:.0f} us",
                revocation_met,
                "" if revocation_met else revocation_verdict,
            ),
            Figure(
                "load",
                f"fleet-api warm GET /loads at the highest rate found ({best_c} wrk connections)",
                round(best["rps"]),
                f"req/s, p50 {best['p50']:.2f} ms, p99 {best['p99']:.2f} ms",
                "bare endpoint p50 ms at 16 connections",
                round(median["bare"]["p50"], 2),
                "reported",
                True,
            ),
            Figure(
                "P1",
                "local cache tier: warm (local copy) vs one Redis GET per request",
                round(ratio / redis_ratio, 2),
                f"x the throughput ({median['warm']['rps']:.0f} req/s)",
                "one Redis GET per request, req/s",
                round(median["redis"]["rps"]),
                "reported (does the tier earn its complexity)",
                True,
            ),
        ],
    )


if __name__ == "__main__":
    main()
