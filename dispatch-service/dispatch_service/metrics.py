"""dispatch-service's domain metrics, declared once. The DynamoDB client counts its own retries and throttles
(adapters/aws.py: botocore's event hooks), as the I/O it measures lives there."""

from __future__ import annotations

from servicekit import counter, histogram

from .domain.models import Status

assign_runs = counter("dispatch_assign_runs_total", "POST /assign runs by outcome", ["outcome"])
packages_assigned = counter("dispatch_packages_assigned_total", "Packages assigned by /assign")
packages_unassigned = counter(
    "dispatch_packages_unassigned_total", "Packages of the day no driver of a completed /assign run could take"
)
assign_stage_seconds = histogram(
    "dispatch_assign_stage_seconds",
    "Time of each stage of /assign",
    ["stage"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
lease_takeovers = counter(
    "dispatch_lease_takeovers_total", "Day leases taken over after they expired (their holder stopped renewing)"
)
status_updates = counter(
    "dispatch_status_updates_total", "POST /update by target status and outcome", ["status", "outcome"]
)
manifests_stored = counter("dispatch_manifests_stored_total", "Day lists stored", ["source"])

ASSIGN_OUTCOMES = (
    "completed",
    "resumed",
    "replayed",
    "busy",
    "key_reused",
    "too_large",
    "unavailable",
    "unknown_drivers",
)
ASSIGN_STAGES = ("load", "lease", "classify", "match", "write", "total")
STATUS_OUTCOMES = ("updated", "refused", "not_found")
MANIFEST_SOURCES = ("upload", "generator")

# Known label values start at zero, so a dashboard shows 0 rather than nothing before the first of each, and
# Prometheus' increase() counts the first one too.
for _outcome in ASSIGN_OUTCOMES:
    assign_runs.labels(_outcome)
for _stage in ASSIGN_STAGES:
    assign_stage_seconds.labels(_stage)
for _status in Status:
    for _status_outcome in STATUS_OUTCOMES:
        status_updates.labels(_status.value, _status_outcome)
for _source in MANIFEST_SOURCES:
    manifests_stored.labels(_source)
