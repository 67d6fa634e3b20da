"""Prometheus scrapes all six services where compose runs them; Grafana has a valid dashboard per service
whose queries name metrics that a running service really exports."""

from __future__ import annotations

import json
import re

import pytest
import static_rules as rules
import yaml
from prometheus_client.parser import text_string_to_metric_families

# Series Prometheus makes itself rather than a service.
PROMETHEUS_OWN = {"up"}
PROMQL_WORDS = {
    "sum",
    "by",
    "rate",
    "histogram_quantile",
    "le",
    "without",
    "avg",
    "max",
    "min",
    "count",
    "irate",
    "increase",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "delta",
    "vector",
    "max_over_time",
}


# Every module that declares domain metrics; importing them registers the metrics in prometheus_client's
# default registry, where they announce themselves (# TYPE) even before they count anything.
METRIC_MODULES = (
    "servicekit.http",
    "jobs.metrics",
    "fleet_api.metrics",
    "fleet_api.adapters.cache",
    "fleet_api.relay",
    "audit_worker.metrics",
    "automation_service.metrics",
    "gpt_service.metrics",
    "dispatch_service.metrics",
    "dispatch_service.adapters.aws",
    "bakery_service.metrics",
)
SERVICE_PREFIXES = ("fleet_", "audit_", "automation_", "gpt_", "dispatch_", "bakery_", "jobs_", "servicekit_")
UNITS = ("_seconds", "_tokens", "_bytes")


def _names_in(body: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(body):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    # Families with no sample yet still announce themselves with # TYPE.
    for base in re.findall(r"^# TYPE (\S+) histogram", body, re.M):
        names.update({f"{base}_bucket", f"{base}_count", f"{base}_sum"})
    for base in re.findall(r"^# TYPE (\S+) counter", body, re.M):
        names.update({base, f"{base}_total" if not base.endswith("_total") else base})
    return names


@pytest.fixture(scope="module")
def exported_metrics(root) -> set[str]:
    """Metric names from /metrics of a real fleet-api app after a few requests (servicekit's HTTP metrics are
    every service's), every service's domain metrics, and the recording rules' series."""
    import importlib

    import fleet_api
    from fleet_api.settings import Settings
    from prometheus_client import REGISTRY, generate_latest

    for module in METRIC_MODULES:
        importlib.import_module(module)
    app = fleet_api.create_app(Settings(jwt_secret="x" * 32, database_url="postgresql+psycopg://u@127.0.0.1:1/x"))
    client = app.test_client()
    client.get("/healthz")
    client.get("/no-such-route")
    client.get("/openapi.json")
    names = _names_in(client.get("/metrics").get_data(as_text=True))
    names |= _names_in(generate_latest(REGISTRY).decode())
    recorded = yaml.safe_load((root / "infra/prometheus/rules.yml").read_text(encoding="utf-8"))
    names |= {rule["record"] for group in recorded["groups"] for rule in group["rules"]}
    return names


def test_domain_metrics_follow_prometheus_naming():
    import importlib

    from prometheus_client import REGISTRY

    for module in METRIC_MODULES:
        importlib.import_module(module)
    checked = 0
    for family in REGISTRY.collect():
        if not family.name.startswith(SERVICE_PREFIXES):
            continue
        checked += 1
        if family.type == "counter":
            assert not family.name.endswith("_total"), family.name  # the client appends _total itself
        elif family.type == "histogram":
            assert family.name.endswith(UNITS), f"{family.name}: a histogram names its unit"
        elif family.type == "gauge":
            assert not family.name.endswith("_total"), f"{family.name}: _total is for counters"
        assert family.name == family.name.lower() and "__" not in family.name
    assert checked >= 40


def _metric_names(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}", "", expr)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_ranges)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_groupings))
    return {w for w in words if w not in PROMQL_WORDS}


def _dashboards(root):
    return sorted((root / "infra" / "grafana" / "dashboards").glob("*.json"))


def test_one_dashboard_per_service_and_an_overview(root):
    assert {p.stem for p in _dashboards(root)} == set(rules.SERVICES) | {"suite-overview"}


def _boards(root):
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in _dashboards(root)}


def test_dashboards_are_valid_and_query_exported_metrics(root, exported_metrics):
    assert "flask_http_request_duration_seconds_bucket" in exported_metrics
    datasource = yaml.safe_load((root / "infra/grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    for name, board in _boards(root).items():
        assert board["uid"] == name and board["panels"]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == uid
            assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
            assert panel["fieldConfig"]["defaults"]["thresholds"]["steps"], panel["title"]
            for target in panel["targets"]:
                unknown = _metric_names(target["expr"]) - exported_metrics - PROMETHEUS_OWN
                assert unknown == set(), f"{name}: {target['expr']} names {unknown}"


def test_service_dashboards_show_their_own_service_domain_panels_first(root):
    for name, board in _boards(root).items():
        if name == "suite-overview":
            continue
        exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
        own = (f'job="{name}"', 'job="fleet-relay"') if name == "fleet-api" else (f'job="{name}"',)
        assert all(any(o in e for o in own) for e in exprs), name
        first = " ".join(t["expr"] for t in board["panels"][0]["targets"])
        assert "flask_http" not in first and "up{" not in first, f"{name}: a domain panel comes first"
        assert [v["name"] for v in board["templating"]["list"]] == ["instance"]
        assert any("flask_http_request_duration_seconds" in e for e in exprs)


def test_the_overview_shows_every_service_headline_and_the_recorded_figures(root):
    board = _boards(root)["suite-overview"]
    exprs = " ".join(t["expr"] for p in board["panels"] for t in p["targets"])
    for name in rules.SERVICES:
        assert f'job="{name}"' in exprs, name
    for recorded in ("job:flask_http_requests:rate5m", "job:flask_http_request_errors:ratio_rate5m"):
        assert recorded in exprs


def test_a_misspelt_metric_would_be_caught(exported_metrics):
    expr = 'sum(rate(flask_http_request_duration_second_count{job="x"}[5m]))'
    assert _metric_names(expr) - exported_metrics == {"flask_http_request_duration_second_count"}


def test_prometheus_scrapes_each_service_where_compose_runs_it(root, compose):
    config = yaml.safe_load((root / "infra/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name, port in rules.SERVICES.items():
        assert jobs[name]["static_configs"][0]["targets"] == [f"{name}:{port}"]
        assert jobs[name].get("metrics_path", "/metrics") == "/metrics"
        assert compose["services"][name]["environment"]["PORT"] == str(port)
    assert config["rule_files"] == ["rules.yml", "alerts.yml"]


def test_alert_rules_query_exported_metrics(root, exported_metrics):
    for file in ("rules.yml", "alerts.yml"):
        rules_file = yaml.safe_load((root / "infra/prometheus" / file).read_text(encoding="utf-8"))
        for group in rules_file["groups"]:
            for rule in group["rules"]:
                unknown = _metric_names(rule["expr"]) - exported_metrics - PROMETHEUS_OWN
                assert unknown == set(), f"{rule.get('alert') or rule['record']} names {unknown}"


def test_every_alert_has_a_runbook_and_a_promtool_test(root):
    alerts = yaml.safe_load((root / "infra/prometheus/alerts.yml").read_text(encoding="utf-8"))
    tests = yaml.safe_load((root / "infra/prometheus/alerts.test.yml").read_text(encoding="utf-8"))
    tested: dict[str, set[bool]] = {}
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            tested.setdefault(check["alertname"], set()).add(bool(check.get("exp_alerts")))
    for group in alerts["groups"]:
        for rule in group["rules"]:
            assert rule["annotations"].get("runbook"), rule["alert"]
            assert tested.get(rule["alert"]) == {True, False}, f"{rule['alert']}: firing and not firing"


def test_the_docs_count_the_dashboards_as_they_are(root):
    """docs/observability.md states how many dashboards, panels and queries there are; the JSON decides."""
    boards = list(_boards(root).values())
    panels = [p for b in boards for p in b["panels"]]
    queries = [t for p in panels for t in p["targets"]]
    guide = (root / "docs/observability.md").read_text(encoding="utf-8")
    stated = re.search(r"(\d+) dashboards, (\d+) panels, (\d+) queries", guide)
    assert stated, "docs/observability.md no longer says how many dashboards, panels and queries there are"
    assert tuple(map(int, stated.groups())) == (len(boards), len(panels), len(queries))
