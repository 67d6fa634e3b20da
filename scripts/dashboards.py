"""The Grafana dashboards of infra/grafana/dashboards, drawn from a Prometheus without Grafana: one HTML page
per dashboard with each panel as an SVG image, in the dashboard's own layout (gridPos), with its titles,
units, thresholds, legends, stacking and stat panels. Grafana cannot run where Docker cannot; these pages
show what its panels would show. One renderer for everything: the pages, the local stack's dashboards
server and the README's picture.

    python scripts/dashboards.py render [--prometheus URL] [--minutes N] [--out DIR] [--board UID ...]
                                                                                    (make dashboards)
    python scripts/dashboards.py serve [--port 3000] [--out DIR]     (the local stack's `dashboards` process)
    python scripts/dashboards.py picture [--board suite-overview] [--out PNG] [--caption TEXT]

The time window is the dashboards' own (the last hour), cut to when the stack's first process answered
Prometheus, so a stack that has run for ten minutes is drawn over those ten minutes, not over fifty empty
ones. Grafana's variables are filled as Grafana fills them: `$__rate_interval` is max(step + scrape interval,
4 x scrape interval), with the scrape interval read from that Prometheus; a dashboard variable takes its
"All" value.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import math
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import matplotlib
import requests
import yaml

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BOARDS_DIR = ROOT / "infra/grafana/dashboards"
OUT = ROOT / ".local/dashboards"
PROMETHEUS = "http://127.0.0.1:9090"
PORT = 3000  # Grafana's port under compose: the dashboards are found at the same address either way
FIRST_BOARD = "suite-overview"
# Grafana's grid: 24 columns; a row unit is 30 px. The page is drawn 1,440 px wide.
COLUMN_PX, ROW_PX, DPI = 60, 30, 100
MAX_POINTS = 240  # Grafana asks for about one point per pixel; a few hundred are plenty here
# Grafana's named colours, as its default theme draws them.
COLOURS = {"green": "#56A64B", "orange": "#FF9830", "red": "#E02F44", "yellow": "#F2CC0C", "blue": "#3274D9"}
SERIES_COLOURS = (
    "#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1",
    "#BA43A9", "#705DA0", "#508642", "#CCA300", "#447EBC", "#C15C17",
)  # fmt: skip


# --- Time window and Grafana's variables -----------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    step: float
    scrape: float  # the Prometheus' scrape interval, for $__rate_interval

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def rate_interval(self) -> str:
        return f"{int(max(self.step + self.scrape, 4 * self.scrape))}s"

    def describe(self) -> str:
        first = datetime.fromtimestamp(self.start, UTC)
        last = datetime.fromtimestamp(self.end, UTC)
        return (
            f"{first:%Y-%m-%d %H:%M:%S} to {last:%H:%M:%S} UTC ({_duration(self.seconds)}), "
            f"a point every {int(self.step)} s, $__rate_interval = {self.rate_interval}"
        )


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def board_range_seconds(board: dict) -> float:
    """The dashboard's default time range ("now-1h" to "now")."""
    match = re.fullmatch(r"now-(\d+)([smhd])", board.get("time", {}).get("from", "now-1h"))
    if not match:
        return 3600.0
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def fill(expr: str, window: Window, variables: dict[str, str]) -> str:
    """The expression as Grafana sends it: built-in intervals and the dashboard's variables filled in."""
    expr = expr.replace("$__rate_interval", window.rate_interval)
    expr = expr.replace("$__interval", f"{int(window.step)}s").replace("$__range", f"{int(window.seconds)}s")
    for name, value in variables.items():
        expr = expr.replace(f"${{{name}}}", value).replace(f"${name}", value)
    return expr


def board_variables(board: dict) -> dict[str, str]:
    """Each templating variable at its "All" value, as the dashboards open by default."""
    return {
        v["name"]: v.get("allValue") or ".*" for v in board.get("templating", {}).get("list", []) if v.get("includeAll")
    }


def legend(template: str, labels: dict[str, str], expr: str) -> str:
    """Grafana's legend: {{label}} filled in (a label the series lacks is empty)."""
    if not template:
        inner = ", ".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
        return f"{{{inner}}}" if inner else expr
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template).strip()
    # The zero an `or vector(0)` query gives when no series of the kind has counted anything.
    return text or "none (0)"


# --- Prometheus --------------------------------------------------------------------------------------------


class PrometheusError(RuntimeError):
    pass


class Prometheus:
    def __init__(self, url: str = PROMETHEUS, timeout: float = 20):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout

    def _get(self, path: str, **params) -> dict:
        try:
            answer = self.session.get(f"{self.url}{path}", params=params, timeout=self.timeout)
            body = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise PrometheusError(f"Prometheus at {self.url} does not answer: {exc}") from exc
        if body.get("status") != "success":
            raise PrometheusError(body.get("error") or f"HTTP {answer.status_code}")
        return body["data"]

    def scrape_interval(self) -> float:
        config = yaml.safe_load(self._get("/api/v1/status/config")["yaml"]) or {}
        return _seconds(config.get("global", {}).get("scrape_interval", "1m"))

    def started_at(self) -> float:
        # RFC 3339 in UTC, with up to nanoseconds (more than fromisoformat takes) or none.
        stamp = self._get("/api/v1/status/runtimeinfo")["startTime"]
        whole, fraction = re.match(r"(.*?T\d\d:\d\d:\d\d)(\.\d+)?", stamp).groups()
        return datetime.fromisoformat(whole + "+00:00").timestamp() + float(fraction or 0)

    def query_range(self, expr: str, window: Window) -> list[dict]:
        return self._get("/api/v1/query_range", query=expr, start=window.start, end=window.end, step=window.step)[
            "result"
        ]

    def window(self, range_seconds: float = 3600, minutes: float | None = None, now: float | None = None) -> Window:
        """The window to draw: the last `minutes`, else the dashboards' range cut to this Prometheus' start."""
        scrape = self.scrape_interval()
        end = now or time.time()
        if minutes:
            start = end - minutes * 60
        else:
            start = max(end - range_seconds, self.started_at() - scrape)
            start = self._first_target_up(start, end, scrape) or start
            start = min(start, end - 60)  # a stack up for seconds is still drawn over a minute
        step = max(scrape, math.ceil((end - start) / MAX_POINTS))
        return Window(start=start, end=end, step=float(step), scrape=scrape)

    def _first_target_up(self, start: float, end: float, scrape: float) -> float | None:
        """When the first scraped process answered: before it, a starting stack has nothing to draw."""
        probe = Window(
            start=start, end=end, step=float(max(scrape, math.ceil((end - start) / MAX_POINTS))), scrape=scrape
        )
        result = self.query_range("count(up == 1)", probe)
        stamps = [float(t) for series in result for t, _ in series["values"]]
        return min(stamps) - probe.step if stamps else None


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", duration)) or 60.0


# --- A panel's data --------------------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    values: list[float]  # one per step of the window; NaN where the series has no sample


@dataclass
class PanelData:
    panel: dict
    times: list[datetime]
    series: list[Series] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.panel.get("type", "timeseries")

    @property
    def defaults(self) -> dict:
        return self.panel.get("fieldConfig", {}).get("defaults", {})

    @property
    def unit(self) -> str:
        return self.defaults.get("unit", "short")

    @property
    def steps(self) -> list[dict]:
        return self.defaults.get("thresholds", {}).get("steps", [])

    @property
    def has_data(self) -> bool:
        return any(not math.isnan(v) for s in self.series for v in s.values)


def fetch(prometheus: Prometheus, panel: dict, window: Window, variables: dict[str, str]) -> PanelData:
    count = int(round(window.seconds / window.step)) + 1
    stamps = [window.start + i * window.step for i in range(count)]
    data = PanelData(panel, [datetime.fromtimestamp(t, UTC) for t in stamps])
    for target in panel.get("targets", []):
        expr = fill(target["expr"], window, variables)
        try:
            result = prometheus.query_range(expr, window)
        except PrometheusError as exc:
            data.errors.append(f"{target.get('refId', '')}: {exc}")
            continue
        for found in result:
            values = [math.nan] * count
            for stamp, value in found["values"]:
                index = int(round((float(stamp) - window.start) / window.step))
                if 0 <= index < count:
                    values[index] = float(value)
            # A quantile over no observations is NaN at every step: Grafana draws nothing for it, nor does this.
            if any(not math.isnan(v) for v in values):
                data.series.append(Series(legend(target.get("legendFormat", ""), found["metric"], expr), values))
    return data


# --- Units, as Grafana writes them ------------------------------------------------------------------------


def format_value(value: float, unit: str) -> str:
    if math.isnan(value):
        return "No data"
    if unit == "percentunit":
        return f"{value * 100:.3g}%"
    if unit == "s":
        magnitude = abs(value)
        if magnitude == 0:
            return "0 s"
        if magnitude < 0.001:
            return f"{value * 1e6:.3g} µs"
        if magnitude < 1:
            return f"{value * 1000:.3g} ms"
        if magnitude < 120:
            return f"{value:.3g} s"
        return f"{value / 60:.3g} min"
    suffix = {"reqps": " req/s", "ops": " ops/s"}.get(unit, "")
    return f"{_short(value)}{suffix}"


def _short(value: float) -> str:
    for size, letter in ((1e9, " Bil"), (1e6, " Mil"), (1e3, " K")):
        if abs(value) >= size:
            return f"{value / size:.3g}{letter}"
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"


def threshold_colour(value: float, steps: list[dict]) -> str:
    colour = "green"
    for step in steps:
        if step.get("value") is None or value >= step["value"]:
            colour = step["color"]
    return COLOURS.get(colour, colour)


# --- Drawing ----------------------------------------------------------------------------------------------


def draw(axis, data: PanelData, window: Window) -> None:
    """One panel onto a matplotlib axis: a stat or a time series, as Grafana draws it."""
    if data.kind == "stat":
        _draw_stat(axis, data)
    else:
        _draw_timeseries(axis, data, window)
    if not data.has_data:
        axis.text(
            0.5, 0.5, "No data" + (f"\n{data.errors[0][:90]}" if data.errors else ""), transform=axis.transAxes,
            ha="center", va="center", fontsize=11, color="#777777", gid="no-data",
        )  # fmt: skip


def _draw_timeseries(axis, data: PanelData, window: Window) -> None:
    custom = data.defaults.get("custom", {})
    times = mdates.date2num(data.times)
    colours = [SERIES_COLOURS[i % len(SERIES_COLOURS)] for i in range(len(data.series))]
    drawn: list[float] = []
    if custom.get("stacking", {}).get("mode") == "normal":
        below = [0.0] * len(times)
        for index, (series, colour) in enumerate(zip(data.series, colours, strict=True)):
            above = [b + (0.0 if math.isnan(v) else v) for b, v in zip(below, series.values, strict=True)]
            axis.fill_between(times, below, above, color=colour, alpha=0.35, linewidth=0, gid=f"series-{index}")
            axis.plot(times, above, color=colour, linewidth=1.3, label=series.name)
            below = above
        drawn = below
    else:
        for index, (series, colour) in enumerate(zip(data.series, colours, strict=True)):
            # Earlier series a little wider: two series with the same values (20 loads from each portal) show
            # as a line inside a line rather than one hiding the other.
            width = max(1.2, 2.6 - 0.4 * index) if len(data.series) > 1 else 1.5
            axis.plot(times, series.values, color=colour, linewidth=width, label=series.name, gid=f"series-{index}")
            # A lone sample between gaps would be invisible as a line.
            axis.plot(times, series.values, color=colour, linestyle="none", marker="o", markersize=1.2)
        drawn = [v for s in data.series for v in s.values if not math.isnan(v)]
    lines = [s["value"] for s in data.steps if s.get("value") is not None]
    if custom.get("thresholdsStyle", {}).get("mode") == "line":
        for step in data.steps:
            if step.get("value") is not None:
                axis.axhline(step["value"], color=COLOURS.get(step["color"], step["color"]), linestyle="--", lw=0.9)
    # The scale is the data's, from 0: counts, rates, shares and durations are never negative, so the axis
    # never goes below 0 unless a value does. An all-zero panel shows up to its first threshold (or 1).
    low, high = min(drawn, default=0.0), max(drawn, default=0.0)
    bottom = low * 1.1 if low < 0 else 0.0
    top = high * 1.15 if high > 0 else (min((v for v in lines if v > 0), default=1.0) * 1.25)
    axis.set_ylim(bottom, top)
    axis.yaxis.set_major_locator(MaxNLocator(nbins=5))
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: format_value(value, data.unit)))
    axis.set_xlim(times[0], times[-1])
    locator = mdates.AutoDateLocator(minticks=3, maxticks=9, tz=UTC)
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S" if window.seconds <= 300 else "%H:%M", tz=UTC))
    axis.tick_params(labelsize=7, colors="#444444")
    axis.grid(alpha=0.25)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    if data.series:
        axis.legend(
            fontsize=6.5 if len(data.series) <= 12 else 5.5, loc="upper left", bbox_to_anchor=(1.01, 1.0),
            frameon=False, borderaxespad=0, handlelength=1.2,
        )  # fmt: skip


def _draw_stat(axis, data: PanelData) -> None:
    """Each series' last value, coloured by the thresholds, over a faint sparkline (Grafana's stat)."""
    axis.set_axis_off()
    shown = [s for s in data.series if any(not math.isnan(v) for v in s.values)]
    count = max(len(shown), 1)
    columns = min(count, 4)
    rows = math.ceil(count / columns)
    for index, series in enumerate(shown):
        last = next(v for v in reversed(series.values) if not math.isnan(v))
        colour = threshold_colour(last, data.steps)
        column, row = index % columns, index // columns
        x0, width = column / columns, 1 / columns
        y0, height = 1 - (row + 1) / rows, 1 / rows
        points = [v for v in series.values if not math.isnan(v)]
        low, high = min(points), max(points)
        span = (high - low) or 1.0
        xs = [x0 + width * 0.05 + width * 0.9 * i / max(len(points) - 1, 1) for i in range(len(points))]
        ys = [y0 + height * 0.08 + height * 0.3 * (p - low) / span for p in points]
        axis.fill_between(xs, y0 + height * 0.08, ys, color=colour, alpha=0.15, linewidth=0)
        axis.text(
            x0 + width / 2, y0 + height * 0.55, format_value(last, data.unit), ha="center", va="center",
            fontsize=22 if rows == 1 and columns <= 2 else 13, fontweight="bold", color=colour,
            transform=axis.transAxes, gid=f"series-{index}",
        )  # fmt: skip
        if len(shown) > 1 or series.name:
            axis.text(
                x0 + width / 2, y0 + height * 0.9, series.name, ha="center", va="top", fontsize=7,
                color="#444444", transform=axis.transAxes,
            )  # fmt: skip
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)


def panel_size(panel: dict) -> tuple[float, float]:
    """The panel's size in inches at DPI, from its gridPos (the title is HTML, above the image)."""
    grid = panel.get("gridPos", {"w": 12, "h": 8})
    return grid["w"] * COLUMN_PX / DPI, (grid["h"] * ROW_PX - 34) / DPI


def panel_svg(data: PanelData, window: Window) -> bytes:
    width, height = panel_size(data.panel)
    figure = Figure(figsize=(width, height), dpi=DPI)
    axis = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    draw(axis, data, window)
    if data.kind != "stat":
        # Room for tick labels on the left and below, and for the legend on the right.
        legend_share = min(0.42, 1.9 / width)
        axis.set_position((0.75 / width, 0.3 / height, 1 - 0.75 / width - legend_share - 0.1 / width, 1 - 0.4 / height))
    buffer = io.BytesIO()
    # No metadata: the same data gives the same bytes.
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


# --- Pages ------------------------------------------------------------------------------------------------


def load_boards() -> list[dict]:
    boards = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(BOARDS_DIR.glob("*.json"))]
    return sorted(boards, key=lambda b: (b["uid"] != FIRST_BOARD, b["title"]))


@dataclass
class Rendered:
    board: dict
    panels: list[PanelData]

    @property
    def with_data(self) -> int:
        return sum(p.has_data for p in self.panels)


STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f5;color:#202226}
header{background:#181b1f;color:#fff;padding:10px 18px}header a{color:#9fc5ff}
header h1{font-size:19px;margin:0 0 4px}header p{margin:2px 0;font-size:12.5px;color:#ccd}
nav{padding:6px 18px;background:#22252b;font-size:13px}nav a{color:#d8d9da;margin-right:14px}
nav a[aria-current]{color:#fff;font-weight:600}
main{display:grid;grid-template-columns:repeat(24,1fr);grid-auto-rows:30px;gap:6px;padding:12px;max-width:1440px}
.panel{background:#fff;border:1px solid #dcdee1;border-radius:3px;margin:0;display:flex;flex-direction:column;
min-width:0;overflow:hidden}.panel figcaption{font-size:13px;font-weight:600;padding:6px 8px 2px;white-space:nowrap;
overflow:hidden;text-overflow:ellipsis}.panel img{flex:1;min-height:0;width:100%;object-fit:contain}
.panel.empty figcaption::after{content:" (no data)";font-weight:400;color:#a33}
table{border-collapse:collapse;margin:14px 18px;background:#fff}td,th{padding:6px 12px;border:1px solid #dcdee1;
text-align:left;font-size:14px}.error{background:#fde2e2;color:#7a1010;padding:8px 18px}
"""


def _page(title: str, nav: str, header: str, body: str, refresh: int | None) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>{meta}'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
        f"<body><header>{header}</header><nav>{nav}</nav>{body}</body></html>"
    )


def _nav(boards: list[dict], current: str | None) -> str:
    links = ['<a href="index.html"' + (' aria-current="page"' if current is None else "") + ">All dashboards</a>"]
    for board in boards:
        mark = ' aria-current="page"' if board["uid"] == current else ""
        links.append(f'<a href="{board["uid"]}.html"{mark}>{html.escape(board["title"])}</a>')
    return "".join(links)


def _header(title: str, window: Window, prometheus: str) -> str:
    stamp = datetime.fromtimestamp(window.end, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"<h1>{html.escape(title)}</h1>"
        f"<p>Window: {html.escape(window.describe())}. Drawn at {stamp} from the Prometheus at "
        f'<a href="{html.escape(prometheus)}">{html.escape(prometheus)}</a> by scripts/dashboards.py '
        "(the dashboards' own queries, drawn with matplotlib: Grafana itself is not running).</p>"
    )


def board_page(rendered: Rendered, boards: list[dict], window: Window, prometheus: str, version: str, refresh) -> str:
    board = rendered.board
    figures = []
    for data in rendered.panels:
        panel = data.panel
        grid = panel.get("gridPos", {"x": 0, "y": 0, "w": 12, "h": 8})
        place = f"grid-column:{grid['x'] + 1}/span {grid['w']};grid-row:{grid['y'] + 1}/span {grid['h']}"
        title = html.escape(panel["title"])
        tip = html.escape(panel.get("description") or "; ".join(t["expr"] for t in panel.get("targets", [])))
        errors = html.escape(" ".join(data.errors))
        figures.append(
            f'<figure class="panel{"" if data.has_data else " empty"}" style="{place}" data-panel-id="{panel["id"]}"'
            f' data-kind="{data.kind}" data-unit="{data.unit}" data-series="{len(data.series)}"'
            f' data-has-data="{str(data.has_data).lower()}" data-errors="{errors}">'
            f'<figcaption title="{tip}">{title}</figcaption>'
            f'<img src="{board["uid"]}/panel-{panel["id"]}.svg?v={version}" alt="{title}"></figure>'
        )
    summary = f"<p>{rendered.with_data} of {len(rendered.panels)} panels have data.</p>"
    return _page(
        board["title"],
        _nav(boards, board["uid"]),
        _header(board["title"], window, prometheus) + summary,
        f'<main data-board="{board["uid"]}">{"".join(figures)}</main>',
        refresh,
    )


def index_page(boards: list[dict], done: dict[str, Rendered], window: Window | None, prometheus: str, note="") -> str:
    rows = []
    for board in boards:
        rendered = done.get(board["uid"])
        figures = f"{rendered.with_data} of {len(rendered.panels)}" if rendered else f"{len(board['panels'])} panels"
        rows.append(
            f'<tr><td><a href="{board["uid"]}.html">{html.escape(board["title"])}</a></td>'
            f"<td>{figures}</td><td>{html.escape(', '.join(board.get('tags', [])))}</td></tr>"
        )
    header = "<h1>Dashboards</h1>" if window is None else _header("Dashboards", window, prometheus)
    table = f"<table><tr><th>dashboard</th><th>panels with data</th><th>tags</th></tr>{''.join(rows)}</table>"
    error = f'<p class="error">{html.escape(note)}</p>' if note else ""
    return _page("Dashboards", _nav(boards, None), header, error + table, None)


class Site:
    """The pages in one folder: index.html, <uid>.html and <uid>/panel-<id>.svg."""

    def __init__(self, out: Path, prometheus: Prometheus, minutes: float | None = None, refresh: int | None = None):
        self.out = out
        self.prometheus = prometheus
        self.minutes = minutes
        self.refresh = refresh
        self.boards = load_boards()
        self.done: dict[str, Rendered] = {}
        self.window: Window | None = None

    def board(self, uid: str) -> dict | None:
        return next((b for b in self.boards if b["uid"] == uid), None)

    def render_board(self, board: dict, window: Window) -> Rendered:
        variables = board_variables(board)
        rendered = Rendered(board, [fetch(self.prometheus, p, window, variables) for p in board["panels"]])
        folder = self.out / board["uid"]
        folder.mkdir(parents=True, exist_ok=True)
        for data in rendered.panels:
            _write(folder / f"panel-{data.panel['id']}.svg", panel_svg(data, window))
        version = str(int(window.end))
        page = board_page(rendered, self.boards, window, self.prometheus.url, version, self.refresh)
        _write(self.out / f"{board['uid']}.html", page.encode())
        self.done[board["uid"]] = rendered
        return rendered

    def render(self, uids: list[str] | None = None) -> list[Rendered]:
        self.out.mkdir(parents=True, exist_ok=True)
        self.boards = load_boards()  # read again: a dashboard edited while the server runs shows at once
        try:
            window = self.prometheus.window(board_range_seconds(self.boards[0]), self.minutes)
        except PrometheusError as exc:
            _write(self.out / "index.html", index_page(self.boards, {}, None, self.prometheus.url, str(exc)).encode())
            raise
        self.window = window
        chosen = [b for b in self.boards if uids is None or b["uid"] in uids]
        results = [self.render_board(board, window) for board in chosen]
        _write(self.out / "index.html", index_page(self.boards, self.done, window, self.prometheus.url).encode())
        return results


def _write(path: Path, content: bytes) -> None:
    """Written whole, then moved into place: a reader never sees half a page."""
    partial_path = path.with_name(path.name + ".part")
    partial_path.write_bytes(content)
    partial_path.replace(path)


# --- The README's picture: one board in one PNG, drawn by the same functions --------------------------------


def picture(site: Site, uid: str, out: Path, caption: str) -> Rendered:
    board = site.board(uid)
    if board is None:
        raise SystemExit(f"no dashboard with uid {uid!r}")
    window = site.prometheus.window(board_range_seconds(board), site.minutes)
    variables = board_variables(board)
    panels = [fetch(site.prometheus, p, window, variables) for p in board["panels"]]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in board["panels"])
    height = rows * 0.33 + 1.5  # inches: a grid row, plus the title above and the caption below
    figure = Figure(figsize=(14, height), dpi=90)
    grid = figure.add_gridspec(
        rows, 24, left=0.07, right=0.985, top=1 - 0.75 / height, bottom=1.0 / height, hspace=1.4, wspace=0.6
    )
    for data in panels:
        pos = data.panel["gridPos"]
        # The right quarter of each cell holds the legend, as on the pages.
        span = pos["w"] - (1 if data.kind == "stat" else max(3, pos["w"] // 4))
        axis = figure.add_subplot(grid[pos["y"] + 1 : pos["y"] + pos["h"], pos["x"] : pos["x"] + span])
        axis.set_title(data.panel["title"], fontsize=10, loc="left", pad=4)
        draw(axis, data, window)
    figure.suptitle(f"{board['title']}: {window.describe()}", fontsize=11, x=0.01, ha="left")
    figure.text(0.01, 0.012, caption, fontsize=8.5, ha="left", va="bottom", wrap=True, color="#333333")
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, format="png", metadata={"Software": None})
    return Rendered(board, panels)


# --- The local stack's dashboards server ------------------------------------------------------------------


class Pages(SimpleHTTPRequestHandler):
    """Static files from the site's folder; a page asked for is drawn again when it is older than max_age."""

    site: Site
    max_age: float
    lock = threading.Lock()
    drawn_at: dict[str, float] = {}

    def do_GET(self) -> None:  # noqa: N802 - the http.server interface
        path = urlsplit(self.path).path
        if path == "/healthz":  # for `make status`: answers without drawing anything
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        uid = "index" if path in ("/", "/index.html") else path.strip("/").removesuffix(".html")
        if path.endswith(".html") or uid == "index":
            self._fresh(uid)
        super().do_GET()

    def _fresh(self, uid: str) -> None:
        if uid != "index" and self.site.board(uid) is None:
            return
        with self.lock:
            if time.monotonic() - self.drawn_at.get(uid, -1e9) < self.max_age:
                return
            try:
                self.site.render(None if uid == "index" else [uid])
            except PrometheusError:
                pass  # the index says so
            self.drawn_at[uid] = time.monotonic()
            if uid == "index":
                self.drawn_at.update({b["uid"]: self.drawn_at[uid] for b in self.site.boards})

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def serve(site: Site, host: str, port: int, max_age: float) -> None:
    site.out.mkdir(parents=True, exist_ok=True)
    handler = type("BoundPages", (Pages,), {"site": site, "max_age": max_age, "drawn_at": {}})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(site.out)))
    print(f"dashboards: http://{host}:{port}/ (drawn from {site.prometheus.url}, at most {max_age:.0f} s old)")
    sys.stdout.flush()
    server.serve_forever()


# --- Command line -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus", default=PROMETHEUS)
    parser.add_argument("--minutes", type=float, help="draw the last N minutes (default: the stack's run, at most 1 h)")
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="every dashboard (or each --board) into --out")
    render.add_argument("--out", type=Path, default=OUT)
    render.add_argument("--board", action="append", help="a dashboard's uid (file name); default: all")
    server = sub.add_parser("serve", help="serve --out, drawing each page again when it is asked for")
    server.add_argument("--out", type=Path, default=OUT)
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=PORT)
    server.add_argument("--max-age", type=float, default=10.0, help="seconds a drawn page is served as it is")
    still = sub.add_parser("picture", help="one dashboard as one PNG (the README's picture)")
    still.add_argument("--board", default=FIRST_BOARD)
    still.add_argument("--out", type=Path, default=ROOT / "docs/observability-overview.png")
    still.add_argument("--caption", default="")
    args = parser.parse_args(argv)
    prometheus = Prometheus(args.prometheus)
    if args.command == "serve":
        serve(Site(args.out, prometheus, args.minutes, refresh=30), args.host, args.port, args.max_age)
        return 0
    site = Site(args.out, prometheus, args.minutes)
    try:
        if args.command == "picture":
            rendered = picture(site, args.board, args.out, args.caption)
            print(f"wrote {args.out}: {rendered.with_data} of {len(rendered.panels)} panels with data")
            return 0
        results = site.render(args.board)
    except PrometheusError as exc:
        print(f"make dashboards: {exc} (is the stack up? `make up`)", file=sys.stderr)
        return 1
    for rendered in results:
        print(f"  {rendered.board['title']:<50} {rendered.with_data:>2} of {len(rendered.panels)} panels with data")
    print(f"dashboards written to file://{args.out.resolve()}/index.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
