"""scripts/dashboards.py without a stack: Grafana's variables and units as Grafana fills and writes them, the
axes of what it draws, the pages' layout, and a clear failure when no Prometheus answers. The same renderer
against the local stack's real Prometheus is tested in tests/test_observability_live.py."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from datetime import UTC, datetime

import pytest
from suite_support import ROOT
from testkit.servers import free_port

spec = importlib.util.spec_from_file_location("dashboards", ROOT / "scripts/dashboards.py")
dashboards = importlib.util.module_from_spec(spec)
sys.modules["dashboards"] = dashboards
spec.loader.exec_module(dashboards)

WINDOW = dashboards.Window(start=1_800_000_000.0, end=1_800_000_600.0, step=5.0, scrape=5.0)


def panel_data(panel: dict, *series: list[float]) -> dashboards.PanelData:
    count = len(series[0]) if series else 121
    times = [datetime.fromtimestamp(WINDOW.start + i * WINDOW.step, UTC) for i in range(count)]
    data = dashboards.PanelData(panel, times)
    data.series = [dashboards.Series(f"s{i}", list(values)) for i, values in enumerate(series)]
    return data


def timeseries(unit: str = "short", steps: tuple = (), stacked: bool = False) -> dict:
    return {
        "id": 1,
        "type": "timeseries",
        "title": "A panel",
        "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {"steps": [{"color": "green", "value": None}, *steps]},
                "custom": {
                    "thresholdsStyle": {"mode": "line" if steps else "off"},
                    "stacking": {"mode": "normal" if stacked else "none"},
                },
            }
        },
        "targets": [],
    }


def y_limits(data: dashboards.PanelData) -> tuple[float, float]:
    from matplotlib.figure import Figure

    axis = Figure().add_subplot()
    dashboards.draw(axis, data, WINDOW)
    return axis.get_ylim()


def test_grafana_variables_are_filled_as_grafana_fills_them():
    board = json.loads((ROOT / "infra/grafana/dashboards/fleet-api.json").read_text())
    variables = dashboards.board_variables(board)
    assert variables == {"instance": ".*"}
    expr = 'sum(rate(x{job="fleet-api", instance=~"$instance"}[$__rate_interval])) + y[$__range] + z[$__interval]'
    # Grafana: $__rate_interval = max($__interval + scrape interval, 4 x scrape interval).
    assert dashboards.fill(expr, WINDOW, variables) == (
        'sum(rate(x{job="fleet-api", instance=~".*"}[20s])) + y[600s] + z[5s]'
    )
    wide = dashboards.Window(start=0, end=3600, step=15, scrape=5)
    assert wide.rate_interval == "20s"
    assert dashboards.Window(start=0, end=3600, step=60, scrape=15).rate_interval == "75s"


def test_legends_follow_the_legend_format():
    assert dashboards.legend("{{portal}} {{outcome}}", {"portal": "jbhunt", "outcome": "login"}, "e") == "jbhunt login"
    assert dashboards.legend("{{portal}}", {}, "e") == "none (0)"  # the `or vector(0)` series
    assert dashboards.legend("", {"__name__": "up", "job": "x"}, "up") == '{job="x"}'


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0123, "percentunit", "1.23%"),
        (0.25, "s", "250 ms"),
        (0.0004, "s", "400 µs"),
        (300, "s", "5 min"),
        (0.5, "reqps", "0.5 req/s"),
        (12_500, "short", "12.5 K"),
        (20, "short", "20"),
        (math.nan, "short", "No data"),
    ],
)
def test_values_are_written_in_the_panel_s_unit(value, unit, text):
    assert dashboards.format_value(value, unit) == text


def test_axes_start_at_zero_and_an_all_zero_panel_shows_its_first_threshold():
    # matplotlib's own scale for a flat zero line is -0.05..0.05: a negative share of errors.
    share = panel_data(timeseries("percentunit", ({"color": "orange", "value": 0.01},)), [0.0] * 121)
    assert y_limits(share) == pytest.approx((0.0, 0.0125))
    counts = panel_data(timeseries(), [math.nan] * 60 + [0.0] * 30 + [20.0] * 31, [0.0] * 121)
    bottom, top = y_limits(counts)
    assert bottom == 0 and top == pytest.approx(23.0)
    # Only a negative value takes the axis below zero.
    assert y_limits(panel_data(timeseries(), [-2.0, 1.0]))[0] < 0


def test_stacked_series_are_drawn_on_top_of_each_other():
    stacked = panel_data(timeseries("reqps", stacked=True), [1.0] * 121, [2.0] * 121, [math.nan] * 121)
    assert y_limits(stacked)[1] == pytest.approx(3.0 * 1.15)


def test_a_panel_s_svg_names_each_series_and_says_when_there_is_no_data():
    drawn = dashboards.panel_svg(panel_data(timeseries(), [1.0] * 121, [2.0] * 121), WINDOW).decode()
    assert drawn.startswith("<?xml") and 'id="series-0"' in drawn and 'id="series-1"' in drawn
    empty = dashboards.panel_svg(panel_data(timeseries()), WINDOW).decode()
    assert 'id="no-data"' in empty and 'id="series-0"' not in empty
    stat = {**timeseries(), "type": "stat"}
    stat["fieldConfig"]["defaults"]["thresholds"]["steps"] = [
        {"color": "red", "value": None},
        {"color": "green", "value": 1},
    ]
    up = dashboards.panel_svg(panel_data(stat, [1.0] * 121), WINDOW).decode()
    assert 'id="series-0"' in up
    assert dashboards.threshold_colour(0, stat["fieldConfig"]["defaults"]["thresholds"]["steps"]) == "#E02F44"


def test_every_board_gets_a_page_with_its_panels_in_its_layout(tmp_path):
    boards = dashboards.load_boards()
    assert boards[0]["uid"] == "suite-overview" and len(boards) == 7
    for board in boards:
        rendered = dashboards.Rendered(board, [panel_data(p, [1.0] * 121) for p in board["panels"]])
        page = dashboards.board_page(rendered, boards, WINDOW, "http://prometheus", "1", 30)
        titles = re.findall(r"<figcaption[^>]*>([^<]*)</figcaption>", page)
        assert titles == [p["title"].replace("&", "&amp;") for p in board["panels"]]
        first = board["panels"][0]["gridPos"]
        assert f"grid-column:{first['x'] + 1}/span {first['w']};grid-row:{first['y'] + 1}/span {first['h']}" in page
        assert f"{len(board['panels'])} of {len(board['panels'])} panels have data" in page


def test_without_a_prometheus_the_command_says_so_and_the_index_too(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    assert dashboards.main(["--prometheus", url, "render", "--out", str(tmp_path)]) == 1
    assert "does not answer" in capsys.readouterr().err
    index = (tmp_path / "index.html").read_text()
    assert "does not answer" in index and "suite-overview.html" in index


@pytest.fixture()
def prometheus(tmp_path):
    """A real Prometheus scraping itself every second: a stack of one target."""
    import shutil
    import time

    from testkit.servers import start_process, stop_process

    if not shutil.which("prometheus"):
        pytest.skip("prometheus is not installed (make setup installs the Debian package)")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
    proc = start_process(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        port=port,
    )
    url = f"http://127.0.0.1:{port}"
    client = dashboards.Prometheus(url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # until its first scrape (it answers 503 while its storage opens)
        try:
            if client._get("/api/v1/query", query="up")["result"]:
                break
        except dashboards.PrometheusError:
            pass
        time.sleep(0.2)
    try:
        yield url
    finally:
        stop_process(proc)


def test_the_window_fits_the_stack_s_run_and_the_pages_are_written(prometheus, tmp_path, capsys):
    import time

    client = dashboards.Prometheus(prometheus)
    assert client.scrape_interval() == 1.0
    started = client.started_at()
    assert abs(started - time.time()) < 60
    window = client.window()
    # Cut to the first scrape, not an hour of nothing; a minute at least; a point per scrape interval or more.
    assert window.end - window.start == pytest.approx(60, abs=1)
    assert window.step >= 1.0 and window.rate_interval == "4s"
    # One board (all seven are drawn in tests/test_observability_live.py, from the stack's data).
    pages = tmp_path / "pages"
    assert (
        dashboards.main(["--prometheus", prometheus, "render", "--out", str(pages), "--board", "suite-overview"]) == 0
    )
    assert f"file://{pages}/index.html" in capsys.readouterr().out
    assert sorted(p.name for p in pages.glob("*.html")) == ["index.html", "suite-overview.html"]
    # The index lists every dashboard, drawn or not yet.
    index = (pages / "index.html").read_text()
    assert all(f'href="{b["uid"]}.html"' in index for b in dashboards.load_boards())
    overview = (tmp_path / "pages" / "suite-overview.html").read_text()
    # Prometheus' own target is up; the services are not there: their panels say so rather than draw zeros.
    assert overview.count("<figure") == 10 and 'data-has-data="false"' in overview
    assert len(list((tmp_path / "pages" / "suite-overview").glob("panel-*.svg"))) == 10
