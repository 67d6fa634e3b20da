"""The observability of the local stack against a real Prometheus, in the order a person meets it:

1. Right after `make up`, before any event, every series a dashboard or an alert reads exists (the labelled
   counters start at zero), so the first event of each kind is counted.
2. After the demo flows (`make demo`: the fleet walkthrough with the audit trail, a bakery order through batch,
   ready and cancel, a dispatch day, an extraction run whose summaries come from an OpenAI-compatible fake, so
   gpt-service's model metrics are real; plus the bakery page's sign-in), every dashboard query and recording
   rule returns data, no alert expression holds, and the dashboards page `make up` prints shows every panel of
   all seven dashboards with data, opened in Chromium. The README's picture is drawn the same way.
3. A restarted service counts its first event: increase() over a window after the restart sees it.

Runs on the session's local stack (tests/conftest.py), on its fixed ports: run under
`flock /tmp/suite-localstack.lock`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from stack_harness import Stack, login
from suite_support import ROOT, SERVICES

pytestmark = pytest.mark.integration

PROMETHEUS = "http://127.0.0.1:9090"
DASHBOARDS = "http://127.0.0.1:3000/"
CHROMIUM = "/usr/bin/chromium"
ALERTS = ROOT / "infra/prometheus/alerts.yml"
BOARDS = sorted((ROOT / "infra/grafana/dashboards").glob("*.json"))
RULES = ROOT / "infra/prometheus/rules.yml"
LOAD_ID = re.compile(r"\b(JBH\d{7}|LS\d{7})\b")


def concrete(expr: str) -> str:
    """What Grafana sends: its interval variable and the dashboards' $instance ("All") filled in."""
    return expr.replace("$__rate_interval", "1m").replace("$instance", ".*")


def query(expr: str) -> dict:
    answer = requests.get(f"{PROMETHEUS}/api/v1/query", params={"query": expr}, timeout=15).json()
    assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
    return answer["data"]


def dashboard_queries() -> list[tuple[str, str, str]]:
    found = []
    for path in BOARDS:
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in board["panels"]:
            found += [(path.stem, panel["title"], concrete(t["expr"])) for t in panel["targets"]]
    return found


def metric_names(expr: str) -> set[str]:
    """Series names an expression selects (label matchers, ranges, groupings and functions removed)."""
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", bare)
    words = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()", bare))
    return words - {"or", "and", "unless", "bool"}


def run(command: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def stack(local_stack: Stack):
    """The session's local stack, before anything else happened on it (tests/conftest.py orders this module
    first), with the OpenAI-compatible fake as gpt-service's model."""
    if not shutil.which("prometheus"):
        pytest.skip("prometheus is not installed (make setup installs the Debian package)")
    assert f"Prometheus: {PROMETHEUS}" in local_stack.up_output
    assert f"Dashboards: {DASHBOARDS}" in local_stack.up_output
    return local_stack.env, local_stack.model


def drive_the_demo_flows(env: dict[str, str]) -> None:
    day = time.strftime("%Y-%m-%d", time.gmtime())
    run(
        [
            str(ROOT / ".venv/bin/python"),
            "-m",
            "flask",
            "--app",
            "dispatch_service",
            "dispatch",
            "generate-day",
            "--date",
            day,
            "--drivers",
            "10",
            "--packages",
            "200",
            "--seed",
            "1",
        ],
        {
            **env,
            "JWT_SECRET_FILE": env["SUITE_STATE_DIR"] + "/secrets/jwt_secret",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        60,
    )
    # What `make demo` runs: the walkthrough (fleet and the audit trail, bakery order/batch/ready/cancel,
    # dispatch /assign and /update), then an extraction run of both portals with its summaries.
    walk = run(["bash", "scripts/test_endpoints.sh"], {**env, "DISPATCH_DATE": day}, 150)
    assert "All dispatch-service steps passed" in walk.stdout
    extraction = run(["bash", "scripts/demo_extraction.sh"], env, 200)
    assert "run succeeded: 40 loads" in extraction.stdout, extraction.stdout
    # The bakery page's sign-in, forwarded to fleet-api: bakery-service's outgoing call.
    signed_in = requests.post(
        "http://127.0.0.1:8004/ui/login",
        json={"email": "demo@fleet.example", "password": "demo-password"},
        timeout=10,
    )
    assert signed_in.status_code == 200, signed_in.text


def wait_for_scrape_and_rules() -> None:
    """Until every target was scraped twice after the flows, and the recording rules evaluated since."""
    deadline = time.monotonic() + 60
    # Two scrapes after the flows (5 s apart on the local stack): rate() needs two samples of a new series.
    flows_done = time.time() + 6
    while time.monotonic() < deadline:
        targets = requests.get(f"{PROMETHEUS}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        scraped = all(t["health"] == "up" and _since(t["lastScrape"]) > flows_done for t in targets)
        groups = requests.get(f"{PROMETHEUS}/api/v1/rules", timeout=5).json()["data"]["groups"]
        evaluated = all(_since(g["lastEvaluation"]) > flows_done + 1 for g in groups)
        if scraped and evaluated and {t["labels"]["job"] for t in targets} >= set(SERVICES) | {"fleet-relay"}:
            return
        time.sleep(1)
    raise AssertionError(f"targets: {[(t['labels']['job'], t['health']) for t in targets]}")


def _since(stamp: str) -> float:
    """Prometheus' RFC 3339 time (nanoseconds, Z) as a Unix time."""
    from datetime import datetime

    whole, fraction = re.match(r"(.*?T\d\d:\d\d:\d\d)(\.\d+)?", stamp).groups()
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float(fraction or 0)


def read_by_dashboards_and_alerts() -> set[str]:
    """Every series name a dashboard panel or an alert reads (recording rules' own names aside)."""
    recorded = {r["record"] for g in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for r in g["rules"]}
    alerts = [r["expr"] for g in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]
    names = set()
    for expr in [e for _, _, e in dashboard_queries()] + alerts:
        names |= metric_names(expr)
    return names - recorded


def test_every_series_a_dashboard_or_alert_reads_exists_before_any_event(stack):
    """Labelled counters start at zero for the label values known in advance: a series born at its first
    event has no earlier sample, and rate() and increase() cannot see that event. Checked before the demo
    runs: only `make up`'s readiness probes and Prometheus' scrapes have reached the services."""
    wait_for_scrape_and_rules()
    missing = [name for name in sorted(read_by_dashboards_and_alerts()) if not query(f"count({name})")["result"]]
    assert not missing, "read by a dashboard or an alert but not exported before the first event:\n" + "\n".join(
        missing
    )
    # A few children that matter, by value: at zero, ready for the first event.
    for selector in (
        'fleet_assignment_requests_total{action="assign", outcome="201"}',
        'bakery_orders_total{event="placed"}',
        'automation_loads_extracted_total{portal="jbhunt"}',
        'gpt_fallbacks_total{reason="timeout"}',
        'jobs_dead_lettered_total{job="audit-worker", type="load.assigned"}',
        'flask_http_request_duration_seconds_count{job="bakery-service", endpoint="orders.place_order"}',
    ):
        values = [float(r["value"][1]) for r in query(f"sum({selector})")["result"]]
        assert values == [0.0], f"{selector}: {values}"


def test_every_dashboard_query_and_recording_rule_returns_data(stack, tmp_path):
    env, model = stack
    drive_the_demo_flows(env)
    assert model.seen, "gpt-service never asked the model"
    wait_for_scrape_and_rules()

    known = set(requests.get(f"{PROMETHEUS}/api/v1/label/__name__/values", timeout=10).json()["data"])
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    recorded = [(r["record"], r["expr"]) for g in rules["groups"] for r in g["rules"]]
    empty, unknown = [], []
    for record, expr in recorded:
        for what in (expr, record):
            if not query(what)["result"]:
                empty.append(f"rule {record}: {what}")
    for board, title, expr in dashboard_queries():
        unknown += [f"{board} / {title}: {n}" for n in metric_names(expr) - {r for r, _ in recorded} - known]
        if not query(expr)["result"]:
            empty.append(f"{board} / {title}: {expr}")
    # What the 5xx-share panels show, for the record of a run (-rA prints it).
    errors = 'sum by (job, endpoint, status) (increase(flask_http_request_duration_seconds_count{status=~"5.."}[15m]))'
    for series in query(errors)["result"]:
        print("5xx answered:", series["metric"], series["value"][1])
    assert not unknown, "metrics no service exports:\n" + "\n".join(unknown)
    assert not empty, f"{len(empty)} queries returned nothing:\n" + "\n".join(empty)
    assert len(dashboard_queries()) > 70
    # A healthy stack raises nothing: no alert's condition holds (before its `for:` would even start), the
    # readiness probes' 503s of the start included. SlowRequests aside: it measures the machine as much as the
    # code (a dispatch day on moto, a model's answer), and this one is shared and busy.
    alerts = [
        (r["alert"], r["expr"])
        for g in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
        for r in g["rules"]
        if r["alert"] != "SlowRequests"
    ]
    holding = [(name, r["metric"]) for name, expr in alerts for r in query(expr)["result"]]
    assert not holding, holding

    check_the_dashboards_page(env)

    # The README's picture is drawn by the same renderer, from the same Prometheus.
    picture = tmp_path / "overview.png"
    drawn = run(
        [sys.executable, "scripts/dashboards.py", "picture", "--out", str(picture), "--caption", "test run"], env, 120
    )
    assert "10 of 10 panels with data" in drawn.stdout, drawn.stdout
    assert picture.stat().st_size > 10_000
    if os.environ.get("OVERVIEW_PNG"):
        shutil.copy(picture, Path(os.environ["OVERVIEW_PNG"]))


def check_the_dashboards_page(env: dict[str, str]) -> None:
    """The URL `make up` printed, opened in Chromium: all seven dashboards, each panel of each in the
    dashboard's order with its title, an image that loaded and has something drawn, and data."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: make setup installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    boards = {b["uid"]: b for b in (json.loads(path.read_text(encoding="utf-8")) for path in BOARDS)}
    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(DASHBOARDS, timeout=120_000)
            links = page.eval_on_selector_all("table a", "links => links.map(a => a.getAttribute('href'))")
            assert sorted(links) == sorted(f"{uid}.html" for uid in boards), links
            for link in links:
                # The server draws a page when it is asked for: a few seconds per dashboard on a busy machine.
                page.goto(DASHBOARDS + link, timeout=120_000, wait_until="load")
                board = boards[link.removesuffix(".html")]
                assert page.title() == board["title"]
                shown = page.eval_on_selector_all(
                    "figure.panel",
                    """figures => figures.map(f => {
                        const img = f.querySelector('img');
                        return {title: f.querySelector('figcaption').textContent, data: f.dataset.hasData,
                                loaded: img.complete && img.naturalWidth > 0, src: img.getAttribute('src')};
                    })""",
                )
                assert [f["title"] for f in shown] == [p["title"] for p in board["panels"]], link
                for panel in shown:
                    svg = page.request.get(DASHBOARDS + panel["src"]).text()
                    if not (panel["loaded"] and panel["data"] == "true" and 'id="series-0"' in svg):
                        problems.append(f"{board['title']} / {panel['title']}: {panel}")
        finally:
            browser.close()
    assert not problems, "panels without a drawn image of data:\n" + "\n".join(problems)
    # The pages are files too (what `make dashboards` writes), in the stack's state folder.
    written = Path(env["SUITE_STATE_DIR"]) / "dashboards"
    assert sorted(p.name for p in written.glob("*.html")) == sorted(["index.html", *(f"{uid}.html" for uid in boards)])


def wait_for_scrapes(after: float, count: int = 2) -> None:
    """Until every target was scraped `count` times after `after` (a Unix time)."""
    interval = 5.0  # the local stack's scrape interval
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        targets = requests.get(f"{PROMETHEUS}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        if all(t["health"] == "up" and _since(t["lastScrape"]) > after + (count - 1) * interval for t in targets):
            return
        time.sleep(1)
    raise AssertionError(
        f"targets not scraped twice since {after}: {[(t['labels']['job'], t['health']) for t in targets]}"
    )


def increase_since(selector: str, since: float) -> float:
    """increase() over a window that starts after `since`: only samples of the restarted process."""
    window = int(time.time() - since) - 1
    result = query(f"sum(increase({selector}[{window}s]))")["result"]
    return float(result[0]["value"][1]) if result else 0.0


def test_a_restarted_service_counts_its_first_event(stack):
    """After a restart every counter starts again, from zero: one order placed and one assignment made after
    their services restarted are each seen by increase() over a window holding only post-restart samples
    (a counter child born at its first event would show an increase of 0 there)."""
    env, _ = stack
    python = str(ROOT / ".venv/bin/python")
    # Both at once: each restart waits for its service's /readyz.
    restarts = {
        service: subprocess.Popen(
            [python, "scripts/localstack.py", "restart", service], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for service in ("bakery-service", "fleet-api")
    }
    restarted = {}
    for service, process in restarts.items():
        out, _ = process.communicate(timeout=150)
        assert process.returncode == 0 and f"{service} is ready" in out, out
        restarted[service] = time.time()
    wait_for_scrapes(after=max(restarted.values()))
    headers = {"Authorization": f"Bearer {login()}"}
    # The walkthrough of the earlier test created the cake.
    order = {"customer": "First After Restart", "recipe": "chocolate_cake", "persons": 2, "quantity": 1}
    placed = requests.post("http://127.0.0.1:8004/orders", json=order, headers=headers, timeout=10)
    assert placed.status_code == 201, placed.text
    stamp = time.strftime("%H%M%S")
    driver = requests.post(
        "http://127.0.0.1:8001/drivers",
        json={"name": "Rita Restart", "licenseNumber": f"RR-{stamp}"},
        headers=headers,
        timeout=10,
    )
    load = requests.post(
        "http://127.0.0.1:8001/loads",
        json={"origin": "Austin, TX", "destination": "Waco, TX", "cargoType": "restart check"},
        headers=headers,
        timeout=10,
    )
    assigned = requests.post(
        "http://127.0.0.1:8001/assignments",
        json={"driverId": driver.json()["id"], "loadId": load.json()["id"]},
        headers=headers,
        timeout=10,
    )
    assert assigned.status_code == 201, assigned.text
    wait_for_scrapes(after=time.time())
    seen = {
        "bakery orders placed": increase_since('bakery_orders_total{event="placed"}', restarted["bakery-service"]),
        "bakery POST /orders 201": increase_since(
            'flask_http_request_duration_seconds_count{job="bakery-service", endpoint="orders.place_order",'
            ' status="201"}',
            restarted["bakery-service"],
        ),
        "fleet assignments 201": increase_since(
            'fleet_assignment_requests_total{job="fleet-api", action="assign", outcome="201"}', restarted["fleet-api"]
        ),
    }
    # One event each: increase() extrapolates to the window's edges, so it may say a little more than 1.
    assert all(1 <= value < 2 for value in seen.values()), seen
