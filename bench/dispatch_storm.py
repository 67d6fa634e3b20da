"""R11, the long version: storms of concurrent /assign calls on the local stack with faults, many seeds, each day
then read back by the history checker (tests/e2e/dispatch_storm.py says what one seed does).

    .venv/bin/python bench/dispatch_storm.py   # BENCH_STORM_SEEDS seeds (12); writes bench/results/dispatch_storm.md

The local stack binds fixed ports shared by every worktree: this script holds `flock /tmp/suite-localstack.lock`
for the whole run (it runs itself again under flock), starts the stack in a state folder of its own, and stops
it before it lets the lock go. Seeds cycle through the faults: none, dispatch-service's gunicorn workers
killed (SIGKILL, every worker of the master) mid-run, the AWS endpoint stopped (SIGSTOP) for 2-5 s. Before the
seeds, the issue's eight concurrent calls for one day of 100 drivers x 3,000 packages (identical, then for
different drivers), whose every first answer must come within 60 s and none be a 503. Exit 1 on any breach.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = "/tmp/suite-localstack.lock"  # noqa: S108 - the suite's one machine-wide lock of the stack's ports
RESULTS = ROOT / "bench" / "results" / "dispatch_storm.md"

if not os.environ.get("DISPATCH_STORM_LOCKED"):
    # The whole run, stack up to stack down, under the machine-wide lock of the local stack's ports.
    os.environ["DISPATCH_STORM_LOCKED"] = "1"
    os.execvp("flock", ["flock", LOCK, sys.executable, __file__, *sys.argv[1:]])  # noqa: S606

sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

from benchkit import Figure, record  # noqa: E402  # bench/ is on the path of a script run from it
from dispatch_storm import FAULTS, Call, StormResult, describe, storm  # noqa: E402
from e2e_support import login  # noqa: E402
from stack_harness import running_local_stack  # noqa: E402


def tally(counts: Counter) -> str:
    """`200: 7, dropped: 1` (0 stands for a dropped connection)."""
    return ", ".join(f"{key if key != 0 else 'dropped'}: {n}" for key, n in sorted(counts.items(), key=str))


def eight_at_once(stack, token: str) -> list[StormResult]:
    drivers = [f"driver_{i}" for i in range(1, 101)]
    identical = [Call("eight-same", {"driver_ids": drivers, "max_per_driver": 30}, "identical")] * 8
    mixed = [
        Call(f"eight-{i}", {"driver_ids": drivers[i * 12 : i * 12 + 20], "max_per_driver": 30}, "overlapping")
        for i in range(8)
    ]
    return [
        storm(stack, token, seed, "none", drivers=100, packages=3000, patience=1, planned=planned)
        for seed, planned in ((801, identical), (802, mixed))
    ]


def main() -> int:
    seeds = int(os.environ.get("BENCH_STORM_SEEDS") or (2 if os.environ.get("BENCH_QUICK") else 12))
    calls = int(os.environ.get("BENCH_STORM_CALLS") or 10)
    load_before = os.getloadavg()
    started = time.monotonic()
    with running_local_stack("suite-storm-", up_timeout=300) as stack:
        boot_s = time.monotonic() - started
        token = login()
        eights = eight_at_once(stack, token)
        storms = []
        for n in range(seeds):
            seed, fault = 1000 + n, FAULTS[(n + 1) % len(FAULTS)]
            result = storm(stack, token, seed, fault, calls=calls)
            print(describe(result), flush=True)
            storms.append(result)
    total_s = time.monotonic() - started

    problems = [f"seed {r.seed}: {p}" for r in storms for p in r.problems]
    for result in eights:
        slow = [o for o in result.outcomes if o.first_answer_s is None or o.first_answer_s > 60]
        if slow or not set(result.counts()) <= {200, 409} or not result.report.ok:
            problems.append(f"eight at once (seed {result.seed}): {describe(result)} {result.report.problems}")
    statuses = Counter(s for r in storms for o in r.outcomes for s in o.statuses)
    finals = Counter(o.final for r in storms for o in r.outcomes)
    faults = Counter(r.fault for r in storms)
    kinds = Counter(o.call.kind for r in storms for o in r.outcomes)
    slowest = max((o.seconds for r in storms for o in r.outcomes), default=0)
    eight_slowest = max((o.first_answer_s or 0) for r in eights for o in r.outcomes)
    ok = not problems
    lines = [
        "# dispatch: /assign storms on the local stack (R11)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} {platform.system()}, {os.cpu_count()} CPUs"
        f" (load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after, shared with other work); the"
        f" local stack booted in {boot_s:.0f} s; the whole run took {total_s / 60:.1f} min.",
        "",
        f"**Eight concurrent calls for one day of 100 drivers x 3,000 packages**: every first answer within "
        f"{eight_slowest:.1f} s (target 60 s); answers "
        + "; ".join(f"{'identical' if r.seed == 801 else 'different drivers'}: {tally(r.counts())}" for r in eights)
        + " (no 503).",
        "",
        f"**Storms**: {len(storms)} seeds, {sum(len(r.outcomes) for r in storms)} calls "
        f"({tally(kinds)}), faults ({tally(faults)}); every answer ({tally(statuses)}); final answers "
        f"({tally(finals)}); the slowest call, retries included, {slowest:.0f} s.",
        "",
        "Invariants (history checker on every day): " + ("all held." if ok else "**BROKEN**: " + "; ".join(problems)),
        "",
        "| seed | fault | calls | answers | days checked |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {r.seed} | {r.fault}{' (' + r.fault_note + ')' if r.fault_note else ''} | {len(r.outcomes)} | "
            f"{tally(r.counts())} | {r.report.summary()} |"
            for r in storms
        ],
        "",
        "Each call is a client that sends its request with its Idempotency-Key and sends it again after 409, 503"
        " or a dropped connection (after Retry-After); a `key-reused` call reuses an earlier key with another"
        " body and must end with 422; every other call must end with 200, every 200 must equal the table, and"
        " the answers under one key must be identical.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    record(
        "dispatch_storm",
        [
            Figure(
                "R11",
                f"/assign storms on the local stack: {len(storms)} seeds, "
                f"{sum(len(r.outcomes) for r in storms)} calls, {faults.get('kill-worker', 0)} worker kills, "
                f"{faults.get('pause-aws', 0)} AWS stops",
                len(problems),
                "invariant breaches",
                "eight concurrent calls, slowest first answer, s",
                round(eight_slowest, 1),
                "0 breaches; 8 concurrent calls answered within 60 s",
                ok,
                "" if ok else "; ".join(problems)[:300],
            )
        ],
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
