"""The Grafana dashboards (infra/grafana/dashboards/*.json): the suite overview and one per service, domain
panels first. infra/generate.py writes them; tests/test_observability_live.py runs every query here against
a Prometheus that scraped the local stack, and each must return data.

Conventions. Rare events (runs, orders, assignments) are shown as counts over the last hour (`increase`
over [1h]), busy ones as rates over Grafana's `$__rate_interval`. Where no series means "none happened"
(a labelled counter that has not counted yet), the query ends in `or vector(0)`, so the panel says 0 rather
than "No data". Latency quantiles are never padded with zeros: no observation is not a zero latency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services import NAMESPACE, SERVICES

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
HTTP = "flask_http_request_duration_seconds"
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Panel:
    title: str
    targets: tuple[tuple[str, str], ...]  # (expr, legend)
    unit: str = "short"
    kind: str = "timeseries"  # or "stat"
    # Thresholds as (value, colour) steps above the base colour; empty for a panel where no value is bad by itself.
    thresholds: tuple[tuple[float, str], ...] = ()
    base: str = "green"  # the colour below the first threshold
    description: str = ""
    width: int = 12
    stack: bool = False


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    panels: tuple[Panel, ...]
    variables: tuple[dict, ...] = ()
    tags: tuple[str, ...] = field(default=())


def one(expr: str, legend: str = "") -> tuple[tuple[str, str], ...]:
    return ((expr, legend),)


def zero(expr: str) -> str:
    """Zero when the expression has no series: nothing of this kind has happened yet."""
    return f"({expr}) or vector(0)"


def sel(job: str, extra: str = "") -> str:
    """A label selector for one service's instances (the dashboard's $instance variable)."""
    return "{" + f'job="{job}", instance=~"$instance"' + (f", {extra}" if extra else "") + "}"


def p95(metric: str, selector: str, window: str, by: str = "") -> str:
    group = f"le, {by}" if by else "le"
    return f"histogram_quantile(0.95, sum by ({group}) (rate({metric}_bucket{selector}[{window}])))"


# --- HTTP panels, the same for every service --------------------------------------------------------------


def http_panels(job: str, calls_out: bool) -> tuple[Panel, ...]:
    s, s5 = sel(job), sel(job, 'status=~"5.."')
    panels = [
        Panel(
            "Requests per second by status",
            one(f"sum by (status) (rate({HTTP}_count{s}[{RATE}]))", "{{status}}"),
            "reqps",
            stack=True,
        ),
        Panel(
            "Share of 5xx responses",
            one(zero(f"sum(rate({HTTP}_count{s5}[{RATE}])) / sum(rate({HTTP}_count{s}[{RATE}]))"), "5xx"),
            "percentunit",
            thresholds=((0.01, "orange"), (0.05, "red")),
        ),
        Panel(
            "Latency quantiles",
            tuple(
                (f"histogram_quantile({q}, sum by (le) (rate({HTTP}_bucket{s}[{RATE}])))", f"p{round(q * 100)}")
                for q in (0.5, 0.95, 0.99)
            ),
            "s",
            thresholds=((0.5, "orange"), (1, "red")),
        ),
        Panel("p95 latency by endpoint", one(p95(HTTP, s, RATE, "endpoint"), "{{endpoint}}"), "s"),
    ]
    if calls_out:
        client = "servicekit_http_client_request"
        panels += [
            Panel(
                "Outgoing calls by target and outcome",
                one(zero(f"sum by (target, outcome) (rate({client}s_total{s}[{RATE}]))"), "{{target}} {{outcome}}"),
                "reqps",
            ),
            Panel(
                "Outgoing call p95 by target",
                one(p95(f"{client}_duration_seconds", s, RATE, "target"), "{{target}}"),
                "s",
            ),
        ]
    panels.append(
        Panel(
            "Instances up",
            one(f"sum(up{s})", "up"),
            kind="stat",
            thresholds=((1, "green"),),
            base="red",
            description="Instances answering /metrics; red at 0.",
        )
    )
    return tuple(panels)


# --- Domain panels, service by service ----------------------------------------------------------------------


def fleet_api() -> tuple[Panel, ...]:
    s, hits, relay = sel("fleet-api"), sel("fleet-api", 'result="hit"'), '{job="fleet-relay"}'
    cache = "fleet_loads_cache_requests_total"
    return (
        Panel(
            "Assignments in the last hour by outcome",
            one(
                zero(f"sum by (action, outcome) (increase(fleet_assignment_requests_total{s}[1h]))"),
                "{{action}} {{outcome}}",
            ),
            description="Assignment requests and status transitions; 409 is a rule refusing, 201/200 success.",
        ),
        Panel(
            "Rule conflicts in the last hour by rule",
            one(f"sum by (rule) (increase(fleet_rule_conflicts_total{s}[1h]))", "{{rule}}"),
        ),
        Panel(
            "Loads cache hit ratio",
            one(zero(f"sum(rate({cache}{hits}[{RATE}])) / sum(rate({cache}{s}[{RATE}]))"), "hits"),
            "percentunit",
            thresholds=((0, "orange"), (0.5, "green")),
        ),
        Panel(
            "Loads cache answers by result and source",
            one(zero(f"sum by (result, source) (rate({cache}{s}[{RATE}]))"), "{{result}} {{source}}"),
            "reqps",
        ),
        Panel(
            "Outbox backlog",
            one(f"max(fleet_outbox_pending_events{relay})", "pending events"),
            thresholds=((50, "orange"), (100, "red")),
            description="Events committed but not yet on the bus, measured by the relay after every batch.",
        ),
        Panel(
            "Events published per second",
            one(f"sum(rate(fleet_outbox_published_events_total{relay}[{RATE}]))", "published"),
            "ops",
        ),
        Panel(
            "Loads cache breaker",
            one(f"max(fleet_loads_cache_breaker_open{s})", "open"),
            kind="stat",
            thresholds=((1, "red"),),
            description="1 while the cache skips Redis after a failure.",
        ),
    )


def audit_worker() -> tuple[Panel, ...]:
    s, new, duplicate = (
        sel("audit-worker"),
        sel("audit-worker", 'outcome="new"'),
        sel("audit-worker", 'outcome="duplicate"'),
    )
    return (
        Panel(
            "Events recorded per second by type",
            one(f"sum by (type) (rate(audit_events_recorded_total{new}[{RATE}]))", "{{type}}"),
            "ops",
        ),
        Panel(
            "Duplicates skipped in the last hour",
            one(f"sum(increase(audit_events_recorded_total{duplicate}[1h]))", "duplicates"),
            description="Redeliveries of events already recorded: harmless, the event id decides.",
        ),
        Panel(
            "Lag from event to record",
            tuple(
                (
                    f"histogram_quantile({q}, sum by (le) (rate(audit_event_lag_seconds_bucket{s}[15m])))",
                    f"p{round(q * 100)}",
                )
                for q in (0.5, 0.95)
            ),
            "s",
            thresholds=((5, "orange"), (60, "red")),
        ),
        Panel(
            "Jobs dead-lettered in the last hour",
            one(zero(f"sum by (type) (increase(jobs_dead_lettered_total{s}[1h]))"), "{{type}}"),
            thresholds=((1, "red"),),
        ),
    )


def automation_service() -> tuple[Panel, ...]:
    s = sel("automation-service")
    return (
        Panel(
            "Runs in the last hour by outcome",
            one(f"sum by (outcome) (increase(automation_runs_total{s}[1h]))", "{{outcome}}"),
        ),
        Panel(
            "Loads extracted in the last hour by portal",
            one(zero(f"sum by (portal) (increase(automation_loads_extracted_total{s}[1h]))"), "{{portal}}"),
        ),
        Panel(
            "Run duration p95",
            one(p95("automation_run_duration_seconds", s, "1h"), "p95"),
            "s",
            thresholds=((120, "orange"), (300, "red")),
        ),
        Panel(
            "Page load p95 by portal",
            one(p95("automation_page_load_duration_seconds", s, "1h", "portal"), "{{portal}}"),
            "s",
        ),
        Panel(
            "Retries in the last hour by target",
            one(zero(f"sum by (target) (increase(automation_retries_total{s}[1h]))"), "{{target}}"),
        ),
        Panel(
            "Browser failures in the last hour by portal and kind",
            # Only the pairs that happened: two portals by ten kinds, all at zero from the start.
            one(
                zero(f"sum by (portal, outcome) (increase(automation_browser_failures_total{s}[1h])) > 0"),
                "{{portal}} {{outcome}}",
            ),
            thresholds=((1, "orange"),),
        ),
    )


def gpt_service() -> tuple[Panel, ...]:
    s = sel("gpt-service")
    return (
        Panel(
            "Summaries per second by outcome",
            one(zero(f"sum by (outcome) (rate(gpt_summarize_requests_total{s}[{RATE}]))"), "{{outcome}}"),
            "ops",
            stack=True,
        ),
        Panel(
            "Fallbacks in the last hour by reason",
            # Only the reasons that happened: every reason's series exists from the start, at zero.
            one(zero(f"sum by (reason) (increase(gpt_fallbacks_total{s}[1h])) > 0"), "{{reason}}"),
            thresholds=((1, "orange"),),
            description="no_api_key is the configured state of a stack without an OpenAI key, not a fault.",
        ),
        Panel(
            "Tokens per second by kind",
            one(zero(f"sum by (kind) (rate(gpt_tokens_total{s}[{RATE}]))"), "{{kind}}"),
            "short",
        ),
        Panel(
            "Model latency p95",
            one(p95("gpt_model_latency_seconds", s, "15m", "result"), "{{result}}"),
            "s",
            thresholds=((4, "orange"), (15, "red")),
        ),
        Panel(
            "Summary duration p95 by outcome",
            one(p95("gpt_summary_duration_seconds", s, "15m", "outcome"), "{{outcome}}"),
            "s",
        ),
        Panel(
            "Model configured",
            one(f"max(gpt_model_configured{s})", "configured"),
            kind="stat",
            thresholds=((1, "green"),),
            base="blue",  # information, not a fault
            description=(
                "1 with an OpenAI API key. 0 is a documented state, not an alert: every summary is then the "
                "deterministic answer (degraded: true, reason no_api_key)."
            ),
        ),
    )


def dispatch_service() -> tuple[Panel, ...]:
    s = sel("dispatch-service")
    return (
        Panel(
            "Packages in the last hour",
            (
                (f"sum(increase(dispatch_packages_assigned_total{s}[1h]))", "assigned"),
                (f"sum(increase(dispatch_packages_unassigned_total{s}[1h]))", "unassigned"),
            ),
        ),
        Panel(
            "Assign runs in the last hour by outcome",
            one(f"sum by (outcome) (increase(dispatch_assign_runs_total{s}[1h]))", "{{outcome}}"),
        ),
        Panel(
            "Assignment algorithm time p95",
            one(
                p95("dispatch_assign_stage_seconds", sel("dispatch-service", 'stage=~"match|total"'), "1h", "stage"),
                "{{stage}}",
            ),
            "s",
            thresholds=((2, "orange"), (10, "red")),
        ),
        Panel(
            "DynamoDB retries and throttles per second",
            (
                (f"sum(rate(dispatch_dynamodb_retries_total{s}[{RATE}]))", "retries"),
                (f"sum(rate(dispatch_dynamodb_throttles_total{s}[{RATE}]))", "throttles"),
            ),
            "ops",
            thresholds=((0.1, "red"),),
        ),
        Panel(
            "Status updates in the last hour by status and outcome",
            one(
                zero(f"sum by (status, outcome) (increase(dispatch_status_updates_total{s}[1h]))"),
                "{{status}} {{outcome}}",
            ),
        ),
        Panel(
            "Day leases taken over in the last hour (a holder stopped renewing)",
            one(f"sum(increase(dispatch_lease_takeovers_total{s}[1h]))", "takeovers"),
        ),
    )


def bakery_service() -> tuple[Panel, ...]:
    s = sel("bakery-service")
    return (
        Panel(
            "Orders in the last hour by event",
            one(f"sum by (event) (increase(bakery_orders_total{s}[1h]))", "{{event}}"),
        ),
        Panel(
            "Batches in the last hour by trigger",
            one(zero(f"sum by (trigger) (increase(bakery_batches_total{s}[1h]))"), "{{trigger}}"),
        ),
        Panel(
            "Notifications in the last hour by channel",
            one(f"sum by (channel) (increase(bakery_notifications_total{s}[1h]))", "{{channel}}"),
        ),
        Panel(
            "Integration actions in the last hour by outcome",
            # Only the pairs that happened: five integrations by three outcomes would be fifteen lines.
            one(
                zero(f"sum by (integration, outcome) (increase(bakery_integration_actions_total{s}[1h])) > 0"),
                "{{integration}} {{outcome}}",
            ),
        ),
        Panel(
            "Pending actions by integration",
            one(f"max by (integration) (bakery_pending_actions{s})", "{{integration}}"),
            thresholds=((10, "orange"), (50, "red")),
        ),
        Panel(
            "Oldest pending action by integration",
            one(f"max by (integration) (bakery_oldest_pending_action_age_seconds{s})", "{{integration}}"),
            "s",
            thresholds=((600, "orange"), (1800, "red")),
        ),
    )


DOMAIN = {
    "dispatch-service": dispatch_service,
    "fleet-api": fleet_api,
    "gpt-service": gpt_service,
    "automation-service": automation_service,
    "bakery-service": bakery_service,
    "audit-worker": audit_worker,
}
# Services that call another through servicekit's HttpClient (gpt-service's model calls have their own panels).
CALLS_OUT = {"automation-service", "bakery-service"}

# The one figure per service the overview shows beside the HTTP ones.
HEADLINES = {
    "dispatch-service": Panel(
        "dispatch: packages assigned in the last hour",
        one('sum(increase(dispatch_packages_assigned_total{job="dispatch-service"}[1h]))', "assigned"),
    ),
    "fleet-api": Panel(
        "fleet-api: assignments in the last hour by outcome",
        one(
            zero('sum by (outcome) (increase(fleet_assignment_requests_total{job="fleet-api", action="assign"}[1h]))'),
            "{{outcome}}",
        ),
    ),
    "gpt-service": Panel(
        "gpt-service: summaries in the last hour by outcome",
        one(zero('sum by (outcome) (increase(gpt_summarize_requests_total{job="gpt-service"}[1h]))'), "{{outcome}}"),
    ),
    "automation-service": Panel(
        "automation: loads extracted in the last hour by portal",
        one(
            zero('sum by (portal) (increase(automation_loads_extracted_total{job="automation-service"}[1h]))'),
            "{{portal}}",
        ),
    ),
    "bakery-service": Panel(
        "bakery: orders in the last hour by event",
        one('sum by (event) (increase(bakery_orders_total{job="bakery-service"}[1h]))', "{{event}}"),
    ),
    "audit-worker": Panel(
        "audit-worker: events recorded in the last hour",
        one('sum by (outcome) (increase(audit_events_recorded_total{job="audit-worker"}[1h]))', "{{outcome}}"),
    ),
}


def overview() -> Board:
    jobs = "|".join(s.name for s in SERVICES)
    http = (
        Panel(
            "Requests per second by service", one("sum by (job) (job:flask_http_requests:rate5m)", "{{job}}"), "reqps"
        ),
        Panel(
            "Share of 5xx responses by service",
            one("job:flask_http_request_errors:ratio_rate5m", "{{job}}"),
            "percentunit",
            thresholds=((0.01, "orange"), (0.05, "red")),
        ),
        Panel(
            "p95 latency by service",
            one("job:flask_http_request_duration_seconds:p95_5m", "{{job}}"),
            "s",
            thresholds=((0.5, "orange"), (1, "red")),
        ),
        Panel(
            "Services up",
            one(f'up{{job=~"{jobs}|fleet-relay"}}', "{{job}}"),
            kind="stat",
            thresholds=((1, "green"),),
            base="red",
        ),
    )
    return Board(
        uid="suite-overview",
        title="Trucking suite: overview",
        panels=http + tuple(HEADLINES[s.name] for s in SERVICES),
        tags=(NAMESPACE, "overview"),
    )


def service_board(name: str, title: str) -> Board:
    variable = {
        "name": "instance",
        "label": "Instance",
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": f'label_values(up{{job="{name}"}}, instance)', "refId": "instance"},
        "definition": f'label_values(up{{job="{name}"}}, instance)',
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
        "refresh": 2,
        "sort": 1,
    }
    return Board(
        uid=name,
        title=title,
        panels=DOMAIN[name]() + http_panels(name, name in CALLS_OUT),
        variables=(variable,),
        tags=(NAMESPACE, name),
    )


def boards() -> list[Board]:
    return [overview(), *(service_board(s.name, s.title) for s in SERVICES)]


# --- Grafana JSON ------------------------------------------------------------------------------------------


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict:
    steps = [{"color": panel.base, "value": None}] + [{"color": c, "value": v} for v, c in panel.thresholds]
    defaults: dict = {"unit": panel.unit, "thresholds": {"mode": "absolute", "steps": steps}}
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "thresholdsStyle": {"mode": "line" if panel.thresholds else "off"},
            "stacking": {"mode": "normal" if panel.stack else "none"},
        }
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
            for i, (expr, legend) in enumerate(panel.targets)
        ],
    }


def dashboard_json(board: Board) -> dict:
    panels, x, y = [], 0, 0
    for panel_id, panel in enumerate(board.panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + 8
        panels.append(_panel_json(panel, panel_id, x, y))
        x += panel.width
    return {
        "uid": board.uid,
        "title": board.title,
        "tags": list(board.tags),
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": list(board.variables)},
        "annotations": {"list": []},
        "panels": panels,
    }
