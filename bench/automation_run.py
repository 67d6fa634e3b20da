"""P4: one extraction run of both portals on the simulator: wall time and browser memory.

Measured side by side in one run, on the simulator served by its own gunicorn process: each portal
alone, then both concurrently (one Chromium, one context per portal), each round launching its
browser as a real run does. Rounds are interleaved so drift hits all three alike; medians compared.
Browser memory: the peak over the run of the summed PSS (proportional set size, so pages shared by
Chromium's processes count once) and RSS of every Chromium process started by this benchmark.

    .venv/bin/python bench/automation_run.py [--rounds 5]   # writes bench/results/automation_run.md
"""

from __future__ import annotations

import argparse
import asyncio
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

from automation_service.adapters.browser import ExtractionOptions, extract_all
from automation_service.adapters.portals import Credentials, JBHuntPortal, LandstarPortal
from benchkit import Figure, record  # bench/ is on the path of a script run from it
from testkit.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "automation_run.md"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
RATIO_TARGET = 1.3
MEMORY_TARGET_MB = 600


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


def one_run(base: str, names: list[str]) -> tuple[float, float, float]:
    started = time.perf_counter()
    with PeakMemory() as memory:
        results = asyncio.run(extract_all(portals(base, names), ExtractionOptions(chromium_path=CHROMIUM)))
    elapsed = time.perf_counter() - started
    failed = [r.error for r in results if not r.ok or len(r.loads) != 20]
    if failed:
        raise SystemExit(f"extraction failed: {failed}")
    return elapsed, memory.pss, memory.rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "5")))
    args = parser.parse_args()
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
        one_run(base, ["jbhunt", "landstar"])  # warm-up: page cache, gunicorn worker, Jinja templates
        samples: dict[str, list[tuple[float, float, float]]] = {"jbhunt": [], "landstar": [], "both": []}
        for _ in range(args.rounds):
            samples["jbhunt"].append(one_run(base, ["jbhunt"]))
            samples["landstar"].append(one_run(base, ["landstar"]))
            samples["both"].append(one_run(base, ["jbhunt", "landstar"]))
    finally:
        sim.terminate()
        sim.wait(10)

    def median(name: str, index: int) -> float:
        return statistics.median(s[index] for s in samples[name])

    slower = max(median("jbhunt", 0), median("landstar", 0))
    ratio = median("both", 0) / slower
    peak_pss = max(s[1] for s in samples["both"])
    peak_rss = max(s[2] for s in samples["both"])
    verdict = "met" if ratio <= RATIO_TARGET else f"missed by {ratio / RATIO_TARGET - 1:.0%}"
    memory_verdict = "met" if peak_pss <= MEMORY_TARGET_MB else f"missed by {peak_pss / MEMORY_TARGET_MB - 1:.0%}"
    lines = [
        "# P4: one extraction run, both portals, on the simulator",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {args.rounds} interleaved rounds after one warm-up; "
        "each round launches Chromium as a real run does, logs in, reads every page, "
        "keeps the 20 most recent.",
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
            f"{max(s[1] for s in samples[name]):.0f} | {max(s[2] for s in samples[name]):.0f} |"
        )
    lines += [
        "",
        f"- both / slower alone = **{ratio:.2f}x** (target <= {RATIO_TARGET}x): {verdict}",
        f"- browser memory, both portals: peak PSS **{peak_pss:.0f} MB** "
        f"(RSS {peak_rss:.0f} MB, which counts "
        f"shared pages once per process) (target <= {MEMORY_TARGET_MB} MB): {memory_verdict}",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
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
                round(max(max(s[1] for s in samples[n]) for n in ("jbhunt", "landstar"))),
                f"<= {MEMORY_TARGET_MB} MB",
                peak_pss <= MEMORY_TARGET_MB,
                "" if peak_pss <= MEMORY_TARGET_MB else memory_verdict,
            ),
        ],
    )


if __name__ == "__main__":
    main()
