"""audit-worker's domain metrics (HTTP metrics come from servicekit, the consumer's from jobs)."""

from servicekit import counter, histogram

from .domain.audit import EVENT_TYPES

RECORDED = counter(
    "audit_events_recorded_total", "Fleet events seen by the audit, new or duplicate", ["type", "outcome"]
)
LAG = histogram(
    "audit_event_lag_seconds",
    "From the event's occurred_at in fleet-api to its audit document being stored (new documents only)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
NOTIFICATIONS = counter(
    "audit_driver_notifications_total", "Driver notifications by event type and channel", ["type", "channel"]
)

# Known label values start at zero, so Prometheus' increase() counts the first event of each kind too.
for _type in EVENT_TYPES:
    for _outcome in ("new", "duplicate"):
        RECORDED.labels(_type, _outcome)
