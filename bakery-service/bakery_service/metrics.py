"""bakery-service's domain metrics (served on /metrics next to the HTTP ones)."""

from servicekit import counter, gauge

from .domain.actions import INTEGRATIONS

CAKES = counter("bakery_cakes_total", "Cake recipes created and deleted", ["event"])
ORDERS = counter("bakery_orders_total", "Orders by event: placed, ready, cancelled", ["event"])
BATCHES = counter("bakery_batches_total", "Ingredient batches (Jira tickets asked for), by trigger", ["trigger"])
ACTIONS = counter(
    "bakery_integration_actions_total",
    "Outbox actions tried, by integration and outcome (done, retry, failed = into the dead letter)",
    ["integration", "outcome"],
)
NOTIFICATIONS = counter("bakery_notifications_total", "Customer notifications sent, by channel", ["channel"])
WEBHOOKS = counter("bakery_jira_webhooks_total", "Jira webhook deliveries, by outcome", ["outcome"])
# Read from the outbox by every worker's processor loop: all see the same table, so the highest is the truth.
PENDING = gauge(
    "bakery_pending_actions", "Outbox actions waiting to be sent, by integration", ["integration"], "livemax"
)
# Actions of an integration without credentials ("disabled"): kept apart, sent once it is configured.
HELD = gauge(
    "bakery_held_actions", "Outbox actions held while their integration is not configured", ["integration"], "livemax"
)
OLDEST_PENDING = gauge(
    "bakery_oldest_pending_action_age_seconds",
    "Age of the oldest action still waiting to be sent, by integration (0 when none waits; held ones apart)",
    ["integration"],
    "livemax",
)
NOTIFICATION_CHANNELS = ("email", "slack")

# Known label values start at zero, so dashboards and alerts see 0 rather than no series at all.
for _event in ("placed", "ready", "cancelled"):
    ORDERS.labels(_event)
for _integration in INTEGRATIONS:
    for _outcome in ("done", "retry", "failed"):
        ACTIONS.labels(_integration, _outcome)
for _channel in NOTIFICATION_CHANNELS:
    NOTIFICATIONS.labels(_channel)
for _event in ("created", "deleted"):
    CAKES.labels(_event)
for _trigger in ("order", "api", "schedule"):
    BATCHES.labels(_trigger)
for _outcome in ("cancelled", "no_change", "ignored", "unauthorized"):
    WEBHOOKS.labels(_outcome)
