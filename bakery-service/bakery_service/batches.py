"""Ingredient batches: one Jira ticket for a set of orders (one order in per-order mode, all waiting ones daily).

A batch takes the orders no ticket covers yet, under row locks, and writes the Jira action in the same
transaction: running it again finds nothing to take, so the same orders never get two tickets. The
ticket carries the batch's label, unique to it: a retry after an attempt that may have created the ticket
looks for that label (over Jira's search lag) before creating one, so a retry does not either (effects.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Connection, RowMapping

from .actions import CreateTicket, add_action
from .adapters import postgres as pg
from .adapters.postgres import BakeryStore
from .domain import messages
from .domain.amounts import sum_ingredients
from .domain.models import BatchResult
from .domain.records import amount_line, stored_amounts, to_stored
from .metrics import BATCHES
from .settings import Settings

log = logging.getLogger("bakery_service.batches")


def batch_label(batch_id: int) -> str:
    return f"bakery-batch-{batch_id}"


def create_batch(
    conn: Connection, settings: Settings, kind: str, trigger: str, orders: Sequence[RowMapping]
) -> tuple[RowMapping, list]:
    lines = sum_ingredients([dict(stored_amounts(o["required_ingredients"])) for o in orders])
    batch = pg.insert_batch(conn, kind, trigger, json.dumps(to_stored(lines)))
    order_ids = [o["id"] for o in orders]
    pg.assign_batch(conn, batch["id"], order_ids)
    base = settings.public_base_url.rstrip("/")
    today = datetime.now(UTC).date()
    if kind == "order":
        summary, description = messages.order_ticket(order_ids[0], lines, f"{base}/orders/{order_ids[0]}")
    else:
        summary, description = messages.batch_ticket(today.isoformat(), order_ids, lines, base)
    ticket = CreateTicket(
        batch_id=batch["id"],
        label=batch_label(batch["id"]),
        summary=summary,
        description=description,
        # The providers deliver the next day.
        due_date=today + timedelta(days=1),
        labels=[batch_label(batch["id"]), "bakery-order"],
    )
    add_action(conn, ticket)
    BATCHES.labels(trigger).inc()
    log.info("batch created", extra={"batch_id": batch["id"], "trigger": trigger, "order_ids": order_ids})
    return batch, lines


def run_batch(store: BakeryStore, settings: Settings, trigger: str = "api", day: date | None = None) -> BatchResult:
    """Batch every order no ticket covers yet. ``trigger="schedule"`` runs at most once per ``day``."""
    with store.begin() as conn:
        if trigger == "schedule" and not pg.claim_schedule_day(conn, day or datetime.now(UTC).date()):
            return BatchResult(batch_id=None, orders=[], ingredients=[])
        orders = pg.lock_unbatched_orders(conn)
        if not orders:
            return BatchResult(batch_id=None, orders=[], ingredients=[])
        batch, lines = create_batch(conn, settings, "daily", trigger, orders)
        if trigger == "schedule":
            pg.record_schedule_batch(conn, day or datetime.now(UTC).date(), batch["id"])
    return BatchResult(
        batch_id=batch["id"],
        orders=[o["id"] for o in orders],
        ingredients=[amount_line(n, a) for n, a in lines],
        label=batch_label(batch["id"]),
    )
