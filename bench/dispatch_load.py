"""P6 and load: dispatch-service's POST /assign for a whole day end to end (HTTP, matching, every DynamoDB write)
beside a bare BatchWriteItem of the same items on the same endpoint, and the same /assign while client threads
move earlier assignments along the delivery state machine with POST /update, against the AWS twin.

    .venv/bin/python bench/dispatch_load.py   # 1,000 x 20,000; writes bench/results/dispatch_load.md
    BENCH_QUICK=1 .venv/bin/python bench/dispatch_load.py   # 100 x 5,000
    BENCH_DRIVERS=1000 BENCH_PACKAGES=50000 .venv/bin/python bench/dispatch_load.py   # dispatch_load_1000x50000.md

Two phases, each on a fresh AWS twin (testkit.aws_twin) and a fresh dispatch-service under gunicorn (its own
gunicorn.conf.py, servicekit's 2 workers x 4 threads), with the same generated day (seed 7) uploaded through
the API:

1. baseline: an earlier /assign for the first tenth of the drivers, then the big /assign for every driver,
   nothing else running; then the big run's assignment items, read back, written again with a bare
   BatchWriteItem (25 items a call, 16 writers: AssignmentsTable.put_assignments) into a fresh table on the
   same twin: P6 is the ratio of the two times;
2. under updates: the same earlier /assign, then BENCH_UPDATE_THREADS clients update the earlier
   assignments alone for BENCH_SECONDS (the update baseline), then the same big /assign while the clients
   keep updating; they stop when it returns (or at BENCH_UPDATE_CAP updates per client, or BENCH_MAX_SECONDS).

Each client owns its share of the earlier assignments and moves each one round the cycle
assigned -> accepted -> in_progress -> failed_to_deliver -> assigned (every step allowed), so every update
must answer 200. Afterwards the history checker (dispatch_service.usecases.check_day) reads the day back and the run
fails (exit 1) unless every invariant holds (no package with two drivers, no driver over max_per_driver,
every item backed by its claim block, both answers equal to the table), every /assign answered 200, every
/update answered 200 with the status asked for, each run assigned the maximum the in-process
maximum_assignment finds on the same input (the big one: the day minus the earlier run's packages), both
phases' big runs gave the same answer (the tie-breaking is deterministic), and every update that answered 200
is the item's status at the end (no update lost).

Environment: BENCH_QUICK, BENCH_DRIVERS / BENCH_PACKAGES (a size of one's own), BENCH_UPDATE_THREADS (8),
BENCH_SECONDS (updates-alone window, 10 s), BENCH_UPDATE_CAP (per client, 20,000), BENCH_MAX_SECONDS (900).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import boto3
import numpy as np
import requests
from benchkit import Figure, record  # bench/ is on the path of a script run from it
from dispatch_service.adapters import table_schema
from dispatch_service.adapters.assignments_table import AssignmentsTable
from dispatch_service.domain.generator import generate_day
from dispatch_service.domain.matching import classify, maximum_assignment
from dispatch_service.domain.rules import PackageTable
from dispatch_service.settings import Settings
from dispatch_service.usecases.check_day import DayReport, check_day
from dispatch_service.wiring import build_dependencies
from prometheus_client.parser import text_string_to_metric_families
from servicekit import issue_token
from testkit.servers import free_port, start_gunicorn, start_process, stop_process

ROOT = Path(__file__).resolve().parents[1]
SERVICE_DIR = ROOT / "dispatch-service"
RESULTS = ROOT / "bench" / "results"
JWT_SECRET = "bench-secret-for-loopback-only-0123456789"  # noqa: S105 - a throwaway server's key
DAY = dt.date(2026, 11, 30)
SEED = 7
TABLE, BUCKET = "DeliveryAssignments", "dispatch-operational-logs"
NEXT = {"assigned": "accepted", "accepted": "in_progress", "in_progress": "failed_to_deliver"}
NEXT["failed_to_deliver"] = "assigned"
FULL_SIZE = (1_000, 50_000)  # the issue's size
DEFAULT_SIZE = (1_000, 20_000)  # what make bench runs (P6's size, docs/performance.md)
STAGES = ("load", "lease", "classify", "match", "write", "total")
P6_TARGET = 2.0


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class Config:
    drivers: int
    packages: int
    threads: int
    alone_seconds: float
    cap: int
    max_seconds: float

    @property
    def per_driver(self) -> int:
        return max(1, self.packages // self.drivers)

    @property
    def earlier_drivers(self) -> int:
        return max(1, self.drivers // 10)

    @property
    def name(self) -> str:
        """dispatch_load for the size `make bench` runs; a size of one's own gets a page of its own."""
        own = os.environ.get("BENCH_DRIVERS") or os.environ.get("BENCH_PACKAGES")
        return f"dispatch_load_{self.drivers}x{self.packages}" if own else "dispatch_load"

    @classmethod
    def from_env(cls) -> Config:
        quick = bool(os.environ.get("BENCH_QUICK"))
        return cls(
            drivers=env_int("BENCH_DRIVERS", 100 if quick else DEFAULT_SIZE[0]),
            packages=env_int("BENCH_PACKAGES", 5_000 if quick else DEFAULT_SIZE[1]),
            threads=env_int("BENCH_UPDATE_THREADS", 8),
            alone_seconds=float(os.environ.get("BENCH_SECONDS") or 10),
            cap=env_int("BENCH_UPDATE_CAP", 20_000),
            max_seconds=float(os.environ.get("BENCH_MAX_SECONDS") or 900),
        )


class Updater:
    """One client: its own share of the earlier assignments, each moved one allowed step at a time."""

    def __init__(self, url: str, headers: dict[str, str], pairs: list[tuple[str, str]], cap: int):
        self.url, self.pairs, self.cap = url, pairs, cap
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.confirmed = {pair: "assigned" for pair in pairs}  # the status of the last 200 answer
        self.uncertain: set[tuple[str, str]] = set()  # an update without a clear answer: no expectation
        self.failures: list[str] = []
        self.sent = 0
        self._next = 0

    def run(self, stop: threading.Event, deadline: float, latencies: list[float]) -> None:
        live = [p for p in self.pairs if p not in self.uncertain]
        while live and not stop.is_set() and time.monotonic() < deadline and self.sent < self.cap:
            pair = live[self._next % len(live)]
            self._next += 1
            target = NEXT[self.confirmed[pair]]
            started = time.perf_counter()
            try:
                answer = self.session.post(
                    f"{self.url}/update",
                    json={"driver_id": pair[0], "package_id": pair[1], "status": target},
                    timeout=60,
                )
            except requests.RequestException as exc:
                self.uncertain.add(pair)
                live.remove(pair)
                self.failures.append(f"{pair}: {type(exc).__name__}: {exc}")
                continue
            finally:
                self.sent += 1
            latencies.append(time.perf_counter() - started)
            if answer.status_code == 200 and answer.json().get("status") == target:
                self.confirmed[pair] = target
            else:
                self.uncertain.add(pair)
                live.remove(pair)
                self.failures.append(f"{pair} -> {target}: {answer.status_code} {answer.text[:200]}")


@dataclass
class Window:
    seconds: float
    latencies: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else float("nan")

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def drive(updaters: list[Updater], until: threading.Event, max_seconds: float) -> Window:
    """Every client updating at once, until `until` is set or max_seconds pass; the window's latencies."""
    window = Window(0.0)
    deadline = time.monotonic() + max_seconds
    started = time.perf_counter()
    threads = [threading.Thread(target=u.run, args=(until, deadline, window.latencies), daemon=True) for u in updaters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    window.seconds = time.perf_counter() - started
    return window


def stage_seconds(url: str) -> dict[str, float]:
    """Sum of dispatch_assign_stage_seconds per stage, from /metrics (all workers)."""
    text = requests.get(f"{url}/metrics", timeout=30).text
    sums: dict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        if family.name == "dispatch_assign_stage_seconds":
            for sample in family.samples:
                if sample.name.endswith("_sum"):
                    sums[sample.labels["stage"]] += sample.value
    return dict(sums)


@dataclass
class Phase:
    name: str
    upload_s: float = 0.0
    earlier: dict[str, list[str]] = field(default_factory=dict)
    big: dict[str, list[str]] = field(default_factory=dict)
    earlier_body: dict = field(default_factory=dict)
    big_body: dict = field(default_factory=dict)
    assign_s: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    alone: Window | None = None
    during: Window | None = None
    updaters: list[Updater] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)  # the earlier and big runs' assignment items, read back
    report: DayReport | None = None
    problems: list[str] = field(default_factory=list)
    expected_big: int = 0
    batch_s: float = 0.0  # the big run's items through a bare BatchWriteItem, same endpoint (baseline phase)
    check_s: float = 0.0


def provision(endpoint: str) -> None:
    """As scripts/provision_aws.py (make up) does: the service's table definition and the logs bucket."""
    table_schema.provision(boto3.client("dynamodb", endpoint_url=endpoint), TABLE)
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


def deps_for(endpoint: str):
    # The twin's queries walk the whole table for every page (moto): a checker's read may take long.
    return build_dependencies(
        Settings(
            jwt_secret=JWT_SECRET,
            aws_endpoint_url=endpoint,
            assignments_table=TABLE,
            logs_bucket=BUCKET,
            aws_read_timeout_seconds=300,
        )
    )


def bare_batch_write(endpoint: str, items: list[dict], table: str) -> float:
    """The same items written with nothing but BatchWriteItem (25 a call, 16 writers) into a fresh table."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=endpoint)
    table_schema.provision(dynamodb.meta.client, table)
    bare = AssignmentsTable(dynamodb, table, write_concurrency=16)
    started = time.perf_counter()
    bare.put_assignments(items)
    return time.perf_counter() - started


def post_assign(url: str, headers: dict, drivers: list[str], per_driver: int, key: str, timeout: float):
    answer = requests.post(
        f"{url}/assign",
        json={"driver_ids": drivers, "max_per_driver": per_driver, "date": DAY.isoformat()},
        headers={**headers, "Idempotency-Key": key},
        timeout=timeout,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"/assign ({len(drivers)} drivers) answered {answer.status_code}: {answer.text[:500]}")
    return answer.json()


def run_phase(name: str, config: Config, body: bytes, driver_ids: list[str], with_updates: bool) -> Phase:
    phase = Phase(name)
    workdir = Path(tempfile.mkdtemp(prefix=f"dispatch-load-{name}-"))
    moto_port, port = free_port(), free_port()
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    endpoint = f"http://127.0.0.1:{moto_port}"
    moto = service = None
    log = (workdir / "service.log").open("w")
    try:
        moto = start_process(
            [sys.executable, "-m", "testkit.aws_twin", "-H", "127.0.0.1", "-p", str(moto_port)],
            port=moto_port,
        )
        provision(endpoint)
        env = {
            "JWT_SECRET": JWT_SECRET,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
            "ASSIGNMENTS_TABLE": TABLE,
            "LOGS_BUCKET": BUCKET,
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
            # A long /assign must not meet gunicorn's worker timeout (gthread workers keep beating anyway).
            "GUNICORN_TIMEOUT": str(int(config.max_seconds)),
            "LOG_LEVEL": "WARNING",
        }
        service = start_gunicorn(SERVICE_DIR, port=port, env=env, stdout=log)
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {issue_token(Settings(jwt_secret=JWT_SECRET), 'dispatcher')[0]}"}

        started = time.perf_counter()
        stored = requests.post(
            f"{url}/days/{DAY}/manifest",
            data=body,
            headers={**headers, "Content-Type": "application/json"},
            timeout=600,
        )
        phase.upload_s = time.perf_counter() - started
        if stored.status_code != 201:
            raise RuntimeError(f"manifest upload answered {stored.status_code}: {stored.text[:500]}")
        phase.earlier_body = post_assign(
            url, headers, driver_ids[: config.earlier_drivers], config.per_driver, "load-earlier", config.max_seconds
        )
        phase.earlier = phase.earlier_body["assignments"]
        print(f"[{name}] manifest {phase.upload_s:.1f} s; earlier run: {sum(map(len, phase.earlier.values()))}")

        pairs = [(d, p) for d, packages in phase.earlier.items() for p in packages]
        phase.updaters = [Updater(url, headers, pairs[i :: config.threads], config.cap) for i in range(config.threads)]
        if with_updates:
            phase.alone = drive(phase.updaters, threading.Event(), config.alone_seconds)
            print(f"[{name}] updates alone: {phase.alone.count} in {phase.alone.seconds:.1f} s")

        before = stage_seconds(url)
        done = threading.Event()
        outcome: dict = {}

        def big_assign() -> None:
            tick = time.perf_counter()
            try:
                outcome["assignments"] = post_assign(
                    url, headers, driver_ids, config.per_driver, "load-all-drivers", config.max_seconds
                )
            except (requests.RequestException, RuntimeError) as exc:  # raised once the updaters have stopped
                outcome["error"] = exc
            finally:
                outcome["seconds"] = time.perf_counter() - tick
                done.set()

        assigner = threading.Thread(target=big_assign, daemon=True)
        assigner.start()
        if with_updates:
            phase.during = drive(phase.updaters, done, config.max_seconds)
        assigner.join()
        if "error" in outcome:
            raise outcome["error"]
        phase.big_body, phase.assign_s = outcome["assignments"], outcome["seconds"]
        phase.big = phase.big_body["assignments"]
        after = stage_seconds(url)
        phase.stages = {s: after.get(s, 0.0) - before.get(s, 0.0) for s in STAGES}
        print(
            f"[{name}] big run: {sum(map(len, phase.big.values()))} assigned in {phase.assign_s:.1f} s"
            + (f"; {phase.during.count} updates meanwhile" if phase.during else "")
        )
        tick = time.perf_counter()
        deps = deps_for(endpoint)
        answers = [("load-earlier", phase.earlier_body), ("load-all-drivers", phase.big_body)]
        phase.report = check_day(deps.uow(), DAY.isoformat(), answers, only_day_in_table=True)
        answered = sorted((d, p) for answer in (phase.earlier, phase.big) for d, ps in answer.items() for p in ps)
        phase.items = [
            {k: (float(v) if k in ("weight", "volume") else v) for k, v in i.items()}
            for i in deps.ledger.items(answered)
        ]
        phase.check_s = time.perf_counter() - tick
        print(f"[{name}] {phase.report.summary()} ({phase.check_s:.1f} s)")
        if not with_updates:
            big_items = [i for i in phase.items if i["run_id"] == "load-all-drivers"]
            # Two rounds, the faster one kept: the baseline at its best on this shared machine.
            rounds = [bare_batch_write(endpoint, big_items, f"BareBatch{n}") for n in range(2)]
            phase.batch_s = min(rounds)
            print(f"[{name}] the same {len(big_items):,} items, bare BatchWriteItem: {rounds} s")
    finally:
        for proc in (service, moto):
            if proc is not None:
                stop_process(proc)
        log.close()
        if phase.big:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"[{name}] the service's output is kept in {workdir / 'service.log'}", file=sys.stderr)
    return phase


def check(phase: Phase, config: Config, manifest, expected_earlier: int, classes) -> None:
    """Everything that must hold afterwards; each breach goes to phase.problems."""
    p = phase.problems
    per_driver = config.per_driver
    p += [f"history checker: {problem}" for problem in phase.report.problems]
    answered = Counter(pkg for answer in (phase.earlier, phase.big) for packages in answer.values() for pkg in packages)
    if any(v > 1 for v in answered.values()):
        p.append(f"the answers give {sum(v > 1 for v in answered.values())} packages twice")
    if phase.report.items != len(answered):
        p.append(f"{phase.report.items} assignment items in the table for {len(answered)} answered assignments")

    earlier = {pkg for packages in phase.earlier.values() for pkg in packages}
    big = [pkg for packages in phase.big.values() for pkg in packages]
    if len(earlier) != expected_earlier:
        p.append(f"the earlier run assigned {len(earlier)}, the maximum is {expected_earlier}")
    if set(big) & earlier:
        p.append(f"the big run gave out {len(set(big) & earlier)} packages the earlier run holds")
    if any(len(v) > per_driver for v in phase.big.values()):
        p.append(f"the big run's answer gives a driver more than {per_driver}")
    index = {pkg.package_id: i for i, pkg in enumerate(manifest.packages)}
    available = np.ones(len(manifest.packages), dtype=np.bool_)
    available[[index[pkg] for pkg in earlier]] = False
    expected_big = sum(len(r) for r in maximum_assignment(classes, [per_driver] * config.drivers, available))
    if len(big) != expected_big:
        p.append(f"the big run assigned {len(big)}, the maximum on what the earlier run left is {expected_big}")
    by_run = Counter(i["run_id"] for i in phase.items)
    if by_run.get("load-all-drivers", 0) != len(big) or by_run.get("load-earlier", 0) != len(earlier):
        p.append(f"items by run {dict(by_run)} differ from the answers ({len(earlier)} earlier, {len(big)} big)")
    phase.expected_big = expected_big

    status = {(i["driver_id"], i["package_id"]): i["status"] for i in phase.items}
    lost = [
        (pair, want, status.get(pair))
        for u in phase.updaters
        for pair, want in u.confirmed.items()
        if pair not in u.uncertain and status.get(pair) != want
    ]
    if lost:
        p.append(f"{len(lost)} updates answered 200 but are not the final status (lost), e.g. {lost[:3]}")
    failures = [f for u in phase.updaters for f in u.failures]
    if failures:
        p.append(f"{len(failures)} updates did not answer 200 with the status asked for, e.g. {failures[:3]}")


def main() -> None:
    config = Config.from_env()
    print(
        f"dispatch load: {config.drivers} x {config.packages}, max_per_driver {config.per_driver}, earlier run "
        f"{config.earlier_drivers} drivers, {config.threads} update clients",
        flush=True,
    )
    tick = time.perf_counter()
    manifest = generate_day(DAY, config.drivers, config.packages, seed=SEED)
    body = manifest.model_dump_json().encode()
    driver_ids = [d.driver_id for d in manifest.drivers]
    table = PackageTable.of(manifest.packages)
    rules = [d.rules for d in manifest.drivers]
    expected_earlier = sum(
        len(r)
        for r in maximum_assignment(
            classify(rules[: config.earlier_drivers], table), [config.per_driver] * config.earlier_drivers
        )
    )
    classes = classify(rules, table)
    print(f"day generated in {time.perf_counter() - tick:.1f} s ({len(body) / 1e6:.1f} MB of JSON)", flush=True)

    load_before = os.getloadavg()
    started = time.perf_counter()
    baseline = run_phase("baseline", config, body, driver_ids, with_updates=False)
    check(baseline, config, manifest, expected_earlier, classes)
    loaded = run_phase("updates", config, body, driver_ids, with_updates=True)
    check(loaded, config, manifest, expected_earlier, classes)
    if loaded.big != baseline.big:
        loaded.problems.append("the big run's answer under updates differs from the same run alone")
    total_s = time.perf_counter() - started
    problems = [f"{ph.name}: {text}" for ph in (baseline, loaded) for text in ph.problems]
    ok = not problems
    write_results(config, baseline, loaded, problems, load_before, total_s)
    assigned = sum(map(len, loaded.big.values()))
    alone, during = loaded.alone, loaded.during
    gap = "" if ok else "correctness failed: " + "; ".join(problems)[:300]
    size = f"{config.drivers:,} x {config.packages:,}"
    ratio = baseline.assign_s / baseline.batch_s if baseline.batch_s else float("inf")
    p6_met = ok and ratio <= P6_TARGET
    record(
        config.name,
        [
            Figure(
                "P6",
                f"one /assign end to end, {size} ({sum(map(len, baseline.big.values())):,} items, AWS twin)",
                round(baseline.assign_s, 1),
                "s",
                "a bare BatchWriteItem of the same items, same endpoint, s",
                round(baseline.batch_s, 1),
                f"<= {P6_TARGET:g}x the bare batch write",
                p6_met,
                "" if p6_met else (gap or f"{ratio:.2f}x, missed by {ratio - P6_TARGET:.2f}x"),
            ),
            Figure(
                "load",
                f"dispatch /assign {size} wall time while {config.threads} clients call /update",
                round(loaded.assign_s, 1),
                f"s ({assigned:,} assigned, the maximum; AWS twin)",
                "the same /assign with no updates, s",
                round(baseline.assign_s, 1),
                "reported",
                ok,
                gap,
            ),
            Figure(
                "load",
                f"dispatch /update latency during that /assign, p50 / p99 ({during.count:,} updates)",
                round(during.percentile(50), 1),
                f"ms p50, {during.percentile(99):,.0f} ms p99",
                f"updates alone, p50 ms (p99 {alone.percentile(99):,.0f} ms)",
                round(alone.percentile(50), 1),
                "reported",
                ok,
                gap,
            ),
            Figure(
                "load",
                f"dispatch /update throughput during that /assign ({config.threads} clients)",
                round(during.rate),
                "updates/s",
                "updates alone, updates/s",
                round(alone.rate),
                "reported",
                ok,
                gap,
            ),
        ],
        notes="" if ok else gap,
    )
    if not ok:
        print("\n".join(["CORRECTNESS FAILED:", *problems]), file=sys.stderr)
        sys.exit(1)


def write_results(config: Config, baseline: Phase, loaded: Phase, problems, load_before, total_s) -> None:
    alone, during = loaded.alone, loaded.during
    assigned = sum(map(len, loaded.big.values()))
    earlier = sum(map(len, loaded.earlier.values()))
    size = (config.drivers, config.packages)
    if os.environ.get("BENCH_QUICK"):
        mode = "quick mode (BENCH_QUICK=1); "
    elif size == FULL_SIZE:
        mode = "the issue's full size; "
    elif size == DEFAULT_SIZE:
        mode = "`make bench`'s size (P6 of docs/performance.md); "
    else:
        mode = ""

    def stages(phase: Phase) -> str:
        return ", ".join(f"{s} {phase.stages.get(s, 0):.1f}" for s in STAGES if s != "total")

    ratio = baseline.assign_s / baseline.batch_s if baseline.batch_s else float("inf")
    big_items = sum(map(len, baseline.big.values()))
    lines = [
        f"# dispatch: /assign at {config.drivers:,} x {config.packages:,}, end to end (P6) and while /update runs",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} CPUs (load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after, "
        f"shared with other work), Python {platform.python_version()}; {mode}the whole benchmark took "
        f"{total_s / 60:.1f} min.",
        "",
        f"**P6**: the big /assign end to end took **{baseline.assign_s:.1f} s**; the same {big_items:,} items "
        f"through a bare BatchWriteItem (25 a call, 16 writers) on the same endpoint took {baseline.batch_s:.1f} s:"
        f" **{ratio:.2f}x** (target <= {P6_TARGET:g}x: " + ("met" if ratio <= P6_TARGET else "missed") + ").",
        "",
        "| figure | under updates | baseline (same run) |",
        "| --- | --- | --- |",
        f"| /assign {config.drivers:,} drivers, {assigned:,} packages assigned: wall time | "
        f"{loaded.assign_s:.1f} s | {baseline.assign_s:.1f} s, no updates |",
        f"| ... of which, server side (s): stages | {stages(loaded)} | {stages(baseline)} |",
        f"| /update latency p50 | {during.percentile(50):.1f} ms | {alone.percentile(50):.1f} ms, updates alone |",
        f"| /update latency p99 | {during.percentile(99):.1f} ms | {alone.percentile(99):.1f} ms, updates alone |",
        f"| /update throughput ({config.threads} clients) | {during.rate:.0f} /s ({during.count:,} in "
        f"{during.seconds:.1f} s) | {alone.rate:.0f} /s ({alone.count:,} in {alone.seconds:.1f} s) |",
        f"| manifest upload ({config.packages:,} packages) | {loaded.upload_s:.1f} s | {baseline.upload_s:.1f} s |",
        f"| history check of the day (day_check) | {loaded.check_s:.1f} s | {baseline.check_s:.1f} s |",
        "",
        "Correctness: " + ("every check passed." if not problems else "**FAILED**: " + "; ".join(problems)),
        "",
        "## Method",
        "",
        f"- The day: `dispatch_service.domain.generator.generate_day({DAY}, {config.drivers}, {config.packages}, "
        f"seed={SEED})`, uploaded with `POST /days/{DAY}/manifest`; max_per_driver = packages / drivers = "
        f"{config.per_driver}.",
        "- Each phase starts its own AWS twin (`testkit.aws_twin`: moto's server, one request at a time; table and"
        " bucket provisioned as scripts/provision_aws.py does)"
        " and dispatch-service under gunicorn with its own gunicorn.conf.py (servicekit's defaults: 2 workers x"
        " 4 threads), so neither phase inherits the other's data.",
        f"- Both phases first assign to the first {config.earlier_drivers} drivers ({earlier:,} packages, the "
        "maximum), then `POST /assign` for all drivers. The baseline phase runs it alone; the other phase first"
        f" runs {config.threads} update clients alone for {config.alone_seconds:g} s, then starts them again as the"
        " big /assign is sent and stops them when it returns (at most "
        f"{config.cap:,} updates per client, {config.max_seconds:g} s).",
        "- Each client owns 1/N of the earlier assignments and moves them round assigned -> accepted -> "
        "in_progress -> failed_to_deliver -> assigned, one step per request on a keep-alive session; latency is"
        " measured at the client, request sent to answer read.",
        "- Stage times are the differences of `dispatch_assign_stage_seconds` (sum, all workers) around the big"
        " /assign: `lease` the wait for the day's lease, `write` the fenced transactions (a claim block and its"
        " 98 items each), the log object and the completed marker.",
        "- P6's baseline: after the baseline phase's big /assign, its assignment items are read back and written"
        " again with `AssignmentsTable.put_assignments` (BatchWriteItem, 25 items a call, 16 writers, unprocessed"
        " items resent) into a fresh table on the same twin, twice; the ratio compares the /assign's wall time"
        " with the faster of the two.",
        "- Checked afterwards (exit 1 on any breach): the history checker (`dispatch_service.usecases.check_day`: no"
        " package with two drivers, no driver over max_per_driver, every item backed by its claim block and every"
        " block's package with its item, both answers equal to the table), each run's count equals the"
        " in-process `maximum_assignment` on the same input (the big run: the day minus the earlier run's "
        "packages), both phases' big answers identical, every /update answered 200 and its status is the final "
        "one (no lost update).",
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{config.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
