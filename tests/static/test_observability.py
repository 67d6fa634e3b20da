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
}


@pytest.fixture(scope="module")
def exported_metrics() -> set[str]:
    """Metric names from /metrics of a real fleet-api app after a few requests (every service shares them)."""
    import fleet_api
    from fleet_api.settings import Settings

    app = fleet_api.create_app(Settings(jwt_secret="x" * 32, database_url="postgresql+psycopg://u@127.0.0.1:1/x"))
    client = app.test_client()
    client.get("/healthz")
    client.get("/no-such-route")
    client.get("/openapi.json")
    body = client.get("/metrics").get_data(as_text=True)
    names = set()
    for family in text_string_to_metric_families(body):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    # Families with no sample yet (no outgoing call in this test) still announce themselves with # TYPE.
    for base in re.findall(r"^# TYPE (\S+) histogram", body, re.M):
        names.update({f"{base}_bucket", f"{base}_count", f"{base}_sum"})
    for base in re.findall(r"^# TYPE (\S+) counter", body, re.M):
        names.update({base, f"{base}_total" if not base.endswith("_total") else base})
    return names


def _metric_names(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}", "", expr)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_ranges)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_groupings))
    return {w for w in words if w not in PROMQL_WORDS}


def _dashboards(root):
    return sorted((root / "infra" / "grafana" / "dashboards").glob("*.json"))


def test_one_dashboard_per_service(root):
    assert {p.stem for p in _dashboards(root)} == set(rules.SERVICES)


def test_dashboards_are_valid_and_query_exported_metrics(root, exported_metrics):
    assert "flask_http_request_duration_seconds_bucket" in exported_metrics
    assert "servicekit_http_client_requests_total" in exported_metrics
    datasource = yaml.safe_load((root / "infra/grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    for path in _dashboards(root):
        board = json.loads(path.read_text(encoding="utf-8"))
        assert board["uid"] == path.stem and board["panels"]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), path.name
        exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
        assert any("flask_http_request_duration_seconds" in e for e in exprs)
        assert any("servicekit_http_client_" in e for e in exprs)
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == uid
        for expr in exprs:
            assert f'job="{path.stem}"' in expr, expr
            unknown = _metric_names(expr) - exported_metrics - PROMETHEUS_OWN
            assert unknown == set(), f"{path.name}: {expr} names {unknown}"


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
    rules_file = yaml.safe_load((root / "infra/prometheus/alerts.yml").read_text(encoding="utf-8"))
    for group in rules_file["groups"]:
        for rule in group["rules"]:
            unknown = _metric_names(rule["expr"]) - exported_metrics - PROMETHEUS_OWN
            assert unknown == set(), f"{rule['alert']} names {unknown}"
