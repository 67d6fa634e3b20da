"""P4: one extraction run of both portals on the simulator: wall time and browser memory.

Measured side by side in one run, on the simulator served by its own gunicorn process: each portal
alone, then both concurrently (one Chromium, one context per portal), in the warm browser a worker
keeps between runs, as the service does. Rounds are interleaved so drift hits all three alike;
medians compared. The first run, which launches Chromium, is reported on its own. A run that needed
a retry is counted: on an idle machine there should be none. Browser memory, sampled in rounds of
their own that are not timed: the peak over the run of the summed PSS (proportional set size, so pages
shared by Chromium's processes count once) and RSS of every Chromium process started by this benchmark.
Each run also reports the CPU time the whole machine spent during it, which bounds the concurrency ratio.

    .venv/bin/python bench/automation_run.py [--rounds 5]   # writes bench/results/automation_run.{md,json}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from automation_service.adapters.browser import ExtractionOptions
from automation_service.adapters.portals import Credentials, JBHuntPortal, LandstarPortal
from automation_service.background.warm_browser import WarmBrowser
from automation_service.settings import Settings
from benchkit import Figure, record  # bench/ is on the path of a script run from it
from testkit.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "automation_run.md"
RESULTS_JSON = RESULTS.with_suffix(".json")
CHROMIUM = os.environ.get("CHROMIUM_PATH", Settings.model_fields["chromium_path"].default)
RATIO_TARGET = 1.3
MEMORY_TARGET_MB = 600
MEMORY_ROUNDS = 2


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def chromium_memory_mb() -> tuple[float, float]:
    """(PSS, RSS) in MB summed over this process's Chromium descendants."""
    pss = rss = 0
    for pid in descendants(os.getpid()):
        try:
            if "chrom" not in Path(f"/proc/{pid}/comm").read_text():
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return pss / 1024, rss / 1024


class PeakMemory:
    def __init__(self) -> None:
        self.pss = self.rss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            pss, rss = chromium_memory_mb()
            self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def portals(base: str, names: list[str]):
    built = {
        "jbhunt": JBHuntPortal(
            f"{base}/jbhunt",
            Credentials("dispatch@example.com", "jbhunt-sim-password"),
            timeout_ms=15000,
            max_pages=10,
        ),
        "landstar": LandstarPortal(
            f"{base}/landstar",
            Credentials("dispatch", "landstar-sim-password"),
            timeout_ms=15000,
            max_pages=10,
        ),
    }
    return [built[name] for name in names]


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (every process, every CPU), in seconds."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


Run = tuple[float, float, float, bool, float]


def one_run(browser: WarmBrowser, base: str, names: list[str], sample_memory: bool = False) -> Run:
    """(wall seconds, peak PSS MB, peak RSS MB, whether a portal needed a retry, busy CPU seconds of the
    machine). Memory is sampled only when asked: the sampler reads every Chromium process's smaps 20 times a
    second, CPU and GIL time that a timed run would share with the browser and the Playwright client."""
    memory = PeakMemory() if sample_memory else contextlib.nullcontext(PeakMemory())
    busy_before = busy_cpu_seconds()
    started = time.perf_counter()
    with memory as peak:
        results = browser.extract(portals(base, names))
    elapsed = time.perf_counter() - started
    busy = busy_cpu_seconds() - busy_before
    failed = [r.error for r in results if not r.ok or len(r.loads) != 20]
    if failed:
        raise SystemExit(f"extraction failed: {failed}")
    # One attempt to sign in and one to read the list: anything more was a retry.
    return elapsed, peak.pss, peak.rss, any(r.attempts > 2 for r in results), busy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "5")))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    port = free_port()
    sim = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            str(ROOT / "automation-service" / "gunicorn.loadboard-sim.conf.py"),
        ],
        env={**os.environ, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tempfile.gettempdir(),
    )
    try:
        wait_for_port(port, 30, sim)
        base = f"http://127.0.0.1:{port}"
        browser = WarmBrowser(ExtractionOptions(chromium_path=CHROMIUM), idle_seconds=3600)
        try:
            first = one_run(browser, base, ["jbhunt", "landstar"])  # launches Chromium
            one_run(browser, base, ["jbhunt", "landstar"])  # warm-up: page cache, gunicorn worker, Jinja templates
            samples: dict[str, list[Run]] = {"jbhunt": [], "landstar": [], "both": []}
            memory: dict[str, list[Run]] = {name: [] for name in samples}
            variants = (("jbhunt", ["jbhunt"]), ("landstar", ["landstar"]), ("both", ["jbhunt", "landstar"]))
            for _ in range(args.rounds):
                for name, names in variants:
                    samples[name].append(one_run(browser, base, names))
            for _ in range(MEMORY_ROUNDS):  # untimed: the memory figures
                for name, names in variants:
                    memory[name].append(one_run(browser, base, names, sample_memory=True))
        finally:
            browser.close()
    finally:
        sim.terminate()
        sim.wait(10)

    def median(name: str, index: int) -> float:
        return statistics.median(s[index] for s in samples[name])

    slower = max(median("jbhunt", 0), median("landstar", 0))
    ratio = median("both", 0) / slower
    floor = median("both", 4) / (os.cpu_count() or 1) / slower
    peak_pss = max(s[1] for s in memory["both"])
    peak_rss = max(s[2] for s in memory["both"])
    load_after = os.getloadavg()[0]
    retried = sum(s[3] for kind in (samples, memory) for runs_of in kind.values() for s in runs_of)
    runs = sum(len(runs_of) for kind in (samples, memory) for runs_of in kind.values())
    verdict = "met" if ratio <= RATIO_TARGET else f"missed by {ratio / RATIO_TARGET - 1:.0%}"
    memory_verdict = "met" if peak_pss <= MEMORY_TARGET_MB else f"missed by {peak_pss / MEMORY_TARGET_MB - 1:.0%}"
    lines = [
        "# P4: one extraction run, both portals, on the simulator",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {args.rounds} interleaved timed rounds after one warm-up, then "
        f"{MEMORY_ROUNDS} rounds that sample the browser's memory (untimed); each run uses the warm Chromium a "
        "worker keeps between runs, logs in, reads every page, keeps the 20 most recent.",
        "",
        "| what | median wall time (s) | min | max | peak browser PSS (MB) | peak browser RSS (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, label in (
        ("jbhunt", "J.B. Hunt alone"),
        ("landstar", "Landstar alone"),
        ("both", "both concurrently"),
    ):
        times = [s[0] for s in samples[name]]
        lines.append(
            f"| {label} | {median(name, 0):.2f} | {min(times):.2f} | {max(times):.2f} | "
            f"{max(s[1] for s in memory[name]):.0f} | {max(s[2] for s in memory[name]):.0f} |"
        )
    lines += [
        "",
        f"- both / slower alone = **{ratio:.2f}x** (target <= {RATIO_TARGET}x): {verdict}",
        f"- browser memory, both portals: peak PSS **{peak_pss:.0f} MB** "
        f"(RSS {peak_rss:.0f} MB, which counts "
        f"shared pages once per process) (target <= {MEMORY_TARGET_MB} MB): {memory_verdict}",
        f"- runs that needed a retry: **{retried}** of {runs} (target 0)",
        # On a machine this small the ratio is bounded by CPU: both runs' work cannot take less than the CPU
        # time they keep busy divided by the CPUs, whatever overlaps.
        f"- CPU time the whole machine spent during a run (median; on an idle machine all of it the run's: "
        f"Chromium, the Playwright driver, this client, the simulator): {median('jbhunt', 4):.2f} s J.B. Hunt "
        f"alone, {median('landstar', 4):.2f} s Landstar alone, {median('both', 4):.2f} s both. On "
        f"{os.cpu_count()} CPUs that much work takes at least {median('both', 4) / (os.cpu_count() or 1):.2f} s, "
        f"{floor:.2f}x the slower alone, however well it overlaps",
        f"- the first run, which launches Chromium ({Path(CHROMIUM).name}): {first[0]:.2f} s",
        # Concurrency can only overlap work on idle cores: read the ratio beside the machine's load.
        f"- load average (1 min) of the machine: {load_before:.1f} before, {load_after:.1f} after "
        f"({os.cpu_count()} CPUs)",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    RESULTS_JSON.write_text(
        json.dumps(
            {
                "chromium": CHROMIUM,
                "rounds": args.rounds,
                "median_seconds": {name: round(median(name, 0), 3) for name in samples},
                "ratio_both_to_slower_alone": round(ratio, 3),
                "busy_cpu_seconds": {name: round(median(name, 4), 3) for name in samples},
                "ratio_floor_from_cpu": round(floor, 3),
                "ratio_target": RATIO_TARGET,
                "peak_pss_mb": round(peak_pss),
                "peak_rss_mb": round(peak_rss),
                "memory_target_mb": MEMORY_TARGET_MB,
                "runs_with_a_retry": retried,
                "runs": runs,
                "first_run_seconds": round(first[0], 3),
                "load_average_before": round(load_before, 1),
                "load_average_after": round(load_after, 1),
            },
            indent=2,
        )
        + "\n"
    )
    print("\n".join(lines))
    record(
        "automation_run",
        [
            Figure(
                "P4",
                "extraction run, both portals concurrently (median wall time)",
                round(median("both", 0), 2),
                "s",
                "the slower portal alone, s",
                round(slower, 2),
                f"<= {RATIO_TARGET}x the slower alone",
                ratio <= RATIO_TARGET,
                "" if ratio <= RATIO_TARGET else f"{ratio:.2f}x, {verdict}",
            ),
            Figure(
                "P4",
                "browser memory, both portals (peak PSS)",
                round(peak_pss),
                "MB",
                "one portal alone, peak PSS MB",
                round(max(max(s[1] for s in memory[n]) for n in ("jbhunt", "landstar"))),
                f"<= {MEMORY_TARGET_MB} MB",
                peak_pss <= MEMORY_TARGET_MB,
                "" if peak_pss <= MEMORY_TARGET_MB else memory_verdict,
            ),
        ],
    )


if __name__ == "__main__":
    main()
