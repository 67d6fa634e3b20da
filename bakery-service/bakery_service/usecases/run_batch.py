"""Ingredient batches: one Jira ticket for a set of orders (one order in per-order mode, all waiting ones daily).

A batch takes the orders no ticket covers yet, under row locks, and writes the Jira action in the same
transaction: running it again finds nothing to take, so the same orders never get two tickets. The
ticket carries the batch's label, unique to it: a retry after an attempt that may have created the ticket
looks for that label (over Jira's search lag) before creating one, so a retry does not either
(send_action.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import RowMapping

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain import messages
from ..domain.actions import CreateTicket
from ..domain.amounts import Amount, sum_ingredients
from ..domain.models import BatchResult
from ..domain.records import amount_line, stored_amounts, to_stored
from ..metrics import BATCHES

log = logging.getLogger("bakery_service.batches")


def batch_label(batch_id: int) -> str:
    return f"bakery-batch-{batch_id}"


def open_batch(
    uow: BakeryUnitOfWork, public_base_url: str, kind: str, trigger: str, orders: Sequence[RowMapping]
) -> tuple[RowMapping, list[tuple[str, Amount]]]:
    """A batch of ``orders`` and its Jira action, in the caller's unit of work."""
    lines = sum_ingredients([dict(stored_amounts(o["required_ingredients"])) for o in orders])
    batch = uow.batches.add(kind, trigger, json.dumps(to_stored(lines)))
    order_ids = [o["id"] for o in orders]
    uow.batches.assign(batch["id"], order_ids)
    base = public_base_url.rstrip("/")
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
    uow.outbox.add(ticket)
    BATCHES.labels(trigger).inc()
    log.info("batch created", extra={"batch_id": batch["id"], "trigger": trigger, "order_ids": order_ids})
    return batch, lines


def run_batch(
    uow: BakeryUnitOfWork, public_base_url: str, trigger: str = "api", day: date | None = None
) -> BatchResult:
    """Batch every order no ticket covers yet. ``trigger="schedule"`` runs at most once per ``day``."""
    with uow:
        if trigger == "schedule" and not uow.batches.claim_schedule_day(day or datetime.now(UTC).date()):
            return BatchResult(batch_id=None, orders=[], ingredients=[])
        orders = uow.orders.lock_unbatched()
        if not orders:
            uow.commit()  # a scheduled day stays claimed: it ran, with nothing to batch
            return BatchResult(batch_id=None, orders=[], ingredients=[])
        batch, lines = open_batch(uow, public_base_url, "daily", trigger, orders)
        if trigger == "schedule":
            uow.batches.record_schedule_batch(day or datetime.now(UTC).date(), batch["id"])
        uow.commit()
    return BatchResult(
        batch_id=batch["id"],
        orders=[o["id"] for o in orders],
        ingredients=[amount_line(n, a) for n, a in lines],
        label=batch_label(batch["id"]),
    )
