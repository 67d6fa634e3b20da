"""bakery-service's domain metrics (served on /metrics next to the HTTP ones)."""

from servicekit import counter

CAKES = counter("bakery_cakes_total", "Cake recipes created and deleted", ["event"])
ORDERS = counter("bakery_orders_total", "Orders by event: placed, ready, cancelled", ["event"])
BATCHES = counter("bakery_batches_total", "Ingredient batches (Jira tickets asked for), by trigger", ["trigger"])
ACTIONS = counter(
    "bakery_integration_actions_total",
    "Outbox actions tried, by integration and outcome (done, retry, failed)",
    ["integration", "outcome"],
)
WEBHOOKS = counter("bakery_jira_webhooks_total", "Jira webhook deliveries, by outcome", ["outcome"])
