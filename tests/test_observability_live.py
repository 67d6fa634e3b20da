"""Every dashboard query and every recording rule returns data from a real Prometheus that scraped the local
stack after its demo flows: the fleet walkthrough with the audit trail, a bakery order through batch, ready
and cancel, a dispatch day (generate-day, /assign, /update), and an extraction run whose summaries come from
an OpenAI-compatible fake (so gpt-service's model metrics are real).

Starts the stack on its fixed ports: run under `flock /tmp/suite-localstack.lock`. Also draws the overview
(scripts/render_overview.py) from that Prometheus, as the README's picture is drawn.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml
from suite_support import ROOT, SERVICES
from test_local_stack import STACK_PORTS, finished_run, login, port_in_use
from testkit.fake_openai import FakeOpenAI

pytestmark = pytest.mark.integration

PROMETHEUS = "http://127.0.0.1:9090"
BOARDS = sorted((ROOT / "infra/grafana/dashboards").glob("*.json"))
RULES = ROOT / "infra/prometheus/rules.yml"
# Modules declaring metrics that count only when something happens (a dead-lettered job): a query may name
# one that Prometheus has not seen yet, as long as the code declares it and the query says 0 for "none".
METRIC_MODULES = ("jobs.metrics", "gpt_service.metrics", "automation_service.metrics", "bakery_service.metrics")
LOAD_ID = re.compile(r"\b(JBH\d{7}|LS\d{7})\b")


def model_answer(request: dict) -> dict:
    """A plausible summary that notes every load id in the prompt, as the model is asked to."""
    prompt = json.dumps(request.get("messages") or request.get("input") or "")
    ids = list(dict.fromkeys(LOAD_ID.findall(prompt)))
    return {
        "summary": "Rates are firm on the southern lanes.",
        "insights": ["Texas outbound pays best."],
        "price_trends": [],
        "route_suggestions": [],
        "notes": [
            {
                "portal": "jbhunt" if i.startswith("JBH") else "landstar",
                "load_id": i,
                "score": 0.5,
                "note": f"note on {i}",
            }
            for i in ids
        ],
    }


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


@pytest.fixture()
def stack():
    if not shutil.which("prometheus"):
        pytest.skip("prometheus is not installed (make setup installs the Debian package)")
    busy = [port for port in STACK_PORTS if port_in_use(port)]
    if busy:
        pytest.skip(f"ports {busy} are taken (a running `make up`?); this test needs the stack's own ports")
    # Not under pytest's own temporary folder (0700): the postgres user must reach its data folder.
    state = Path(tempfile.mkdtemp(prefix="suite-observed-"))
    state.chmod(0o755)
    with FakeOpenAI(model_answer) as model:
        env = {
            **os.environ,
            "SUITE_STATE_DIR": str(state),
            "OPENAI_API_KEY": "sk-local-fake",
            "OPENAI_BASE_URL": model.base_url,
        }
        python = str(ROOT / ".venv/bin/python")
        try:
            up = run([python, "scripts/localstack.py", "up", "--timeout", "150"], env, 300)
            assert f"Prometheus: {PROMETHEUS}" in up.stdout
            yield env, model
        finally:
            subprocess.run(
                [python, "scripts/localstack.py", "down"], cwd=ROOT, env=env, capture_output=True, timeout=120
            )
            subprocess.run([sys.executable, "-c", "import shutil,sys; shutil.rmtree(sys.argv[1], True)", str(state)])


def drive_the_demo_flows(env: dict[str, str]) -> None:
    day = time.strftime("%Y-%m-%d", time.gmtime())
    headers = {"Authorization": f"Bearer {login()}"}
    started = requests.post("http://127.0.0.1:8003/runs", headers=headers, timeout=10)
    assert started.status_code == 202, started.text
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
    # fleet walkthrough and audit trail, bakery order/batch/ready/cancel, dispatch /assign and /update
    walk = run(["bash", "scripts/test_endpoints.sh"], {**env, "DISPATCH_DATE": day}, 150)
    assert "All dispatch-service steps passed" in walk.stdout
    status = finished_run(started.json(), headers)
    assert status["status"] == "succeeded", status
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


def test_every_dashboard_query_and_recording_rule_returns_data(stack, tmp_path):
    env, model = stack
    drive_the_demo_flows(env)
    assert model.seen, "gpt-service never asked the model"
    wait_for_scrape_and_rules()

    known = set(requests.get(f"{PROMETHEUS}/api/v1/label/__name__/values", timeout=10).json()["data"])
    declared = set()
    from prometheus_client import REGISTRY

    for module in METRIC_MODULES:
        importlib.import_module(module)
    for family in REGISTRY.collect():
        declared |= {family.name, f"{family.name}_total", f"{family.name}_bucket"}

    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    recorded = [(r["record"], r["expr"]) for g in rules["groups"] for r in g["rules"]]
    empty, unknown = [], []
    for record, expr in recorded:
        for what in (expr, record):
            if not query(what)["result"]:
                empty.append(f"rule {record}: {what}")
    for board, title, expr in dashboard_queries():
        for name in metric_names(expr) - {r for r, _ in recorded}:
            if name not in known and not ("or vector(0)" in expr and name in declared):
                unknown.append(f"{board} / {title}: {name}")
        if not query(expr)["result"]:
            empty.append(f"{board} / {title}: {expr}")
    # What the 5xx-share panels show, for the record of a run (-rA prints it).
    errors = 'sum by (job, endpoint, status) (increase(flask_http_request_duration_seconds_count{status=~"5.."}[15m]))'
    for series in query(errors)["result"]:
        print("5xx answered:", series["metric"], series["value"][1])
    assert not unknown, "metrics no service exports:\n" + "\n".join(unknown)
    assert not empty, f"{len(empty)} queries returned nothing:\n" + "\n".join(empty)
    assert len(dashboard_queries()) > 70

    picture = tmp_path / "overview.png"
    run([sys.executable, "scripts/render_overview.py", "--minutes", "3", "--out", str(picture)], env, 60)
    assert picture.stat().st_size > 10_000
    if os.environ.get("OVERVIEW_PNG"):
        shutil.copy(picture, Path(os.environ["OVERVIEW_PNG"]))
