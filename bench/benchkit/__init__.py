"""What every benchmark hands to the one results table: its figures, each beside its baseline and target.

A benchmark calls ``record(name, figures)`` once; ``scripts/bench_report.py`` (run by ``make bench``) gathers
every ``bench/results/<name>.json`` into ``bench/results/results.json`` and ``bench/results/README.md``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


@dataclass(frozen=True)
class Figure:
    target: str  # P1..P5
    what: str
    value: float
    unit: str
    baseline_what: str
    baseline: float | None
    goal: str  # the target in words, e.g. ">= 0.9x bare"
    met: bool
    gap: str = ""  # by how much it is missed, in words; empty when met


def record(name: str, figures: list[Figure], notes: str = "") -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_after": round(os.getloadavg()[0], 2),
        "quick": bool(os.environ.get("BENCH_QUICK")),
        "notes": notes,
        "figures": [asdict(f) for f in figures],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
