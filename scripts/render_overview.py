"""Draws the suite overview dashboard's panels from a Prometheus into one PNG: one small chart per panel, same
titles and queries as infra/grafana/dashboards/suite-overview.json. Grafana itself cannot run here; this shows
what its panels show.

    python scripts/render_overview.py [--prometheus http://127.0.0.1:9090] [--minutes 10]
        [--out docs/observability-overview.png]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
import requests

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OVERVIEW = ROOT / "infra/grafana/dashboards/suite-overview.json"
UNIT_LABELS = {"reqps": "requests/s", "percentunit": "share", "s": "seconds", "short": ""}


def concrete(expr: str, minutes: int) -> str:
    """Grafana's built-in variables, as Grafana would fill them for this time range."""
    return expr.replace("$__rate_interval", "1m").replace("$__range", f"{minutes}m")


def legend(template: str, labels: dict[str, str]) -> str:
    """Grafana's legend: {{label}} filled in, a label the series lacks left empty (the `or vector(0)` zero)."""
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template).strip()
    return text or "none yet (0)"


def query_range(prometheus: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    answer = requests.get(
        f"{prometheus}/api/v1/query_range",
        params={"query": expr, "start": start, "end": end, "step": step},
        timeout=30,
    ).json()
    if answer.get("status") != "success":
        raise RuntimeError(f"{expr}: {answer.get('error')}")
    return answer["data"]["result"]


def render(prometheus: str, minutes: int, out: Path) -> int:
    board = json.loads(OVERVIEW.read_text(encoding="utf-8"))
    panels = board["panels"]
    end = time.time()
    start = end - minutes * 60
    step = max(minutes * 60 / 120, 5)
    columns = 2
    rows = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(13, 2.9 * rows), squeeze=False)
    drawn = 0
    for axis, panel in zip(axes.flat, panels, strict=False):
        axis.set_title(panel["title"], fontsize=10, loc="left")
        unit = panel["fieldConfig"]["defaults"].get("unit", "short")
        axis.set_ylabel(UNIT_LABELS.get(unit, unit), fontsize=8)
        for target in panel["targets"]:
            for series in query_range(prometheus, concrete(target["expr"], minutes), start, end, step):
                times = [datetime.fromtimestamp(float(t), UTC) for t, _ in series["values"]]
                values = [float(v) for _, v in series["values"]]
                axis.plot(times, values, label=legend(target.get("legendFormat", ""), series["metric"]), linewidth=1.4)
                drawn += 1
        for step_ in panel["fieldConfig"]["defaults"]["thresholds"]["steps"][1:]:
            if panel["type"] == "timeseries":
                axis.axhline(step_["value"], color=step_["color"], linestyle="--", linewidth=0.8)
        if unit == "percentunit":
            axis.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        axis.set_xlim(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        axis.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S" if minutes <= 15 else "%H:%M", tz=UTC))
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=6, loc="upper left", ncol=2)
    for axis in list(axes.flat)[len(panels) :]:
        axis.axis("off")
    stamp = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%d %H:%M UTC")
    figure.suptitle(
        f"{board['title']}: the dashboard's queries run against the local stack's Prometheus, last {minutes} min"
        f" to {stamp} (drawn with matplotlib, not Grafana)",
        fontsize=10,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=90)
    plt.close(figure)
    return drawn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "docs/observability-overview.png")
    args = parser.parse_args()
    drawn = render(args.prometheus, args.minutes, args.out)
    print(f"wrote {args.out} ({drawn} series)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
