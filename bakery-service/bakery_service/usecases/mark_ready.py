"""Mark an order ready: the customer hears of it by Slack when the bakery has Slack (which falls back to
e-mail for a name it does not know), otherwise by e-mail; through the outbox, in the same transaction."""

from __future__ import annotations

import logging

from servicekit.domain_errors import Conflict, NotFound

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.actions import EmailReadyNotice, SlackReadyNotice
from ..domain.models import Order
from ..domain.naming import customer_email
from ..domain.records import order_from_row
from ..metrics import ORDERS

log = logging.getLogger("bakery_service.orders")


def mark_ready(uow: BakeryUnitOfWork, order_id: int, *, slack_configured: bool) -> Order:
    with uow:
        row = uow.orders.get(order_id, for_update=True)
        if row is None:
            raise NotFound(f"No order has the id {order_id}.")
        if row["state"] == "cancelled":
            raise Conflict(
                f"Order {order_id} is cancelled; it cannot be ready.", code="order_cancelled", order_id=order_id
            )
        if row["state"] == "ready":
            return order_from_row(row)
        row = uow.orders.mark_ready(order_id)
        if slack_configured:
            uow.outbox.add(SlackReadyNotice(order_id=row["id"], customer=row["customer"]))
        else:
            uow.outbox.add(EmailReadyNotice(order_id=row["id"], to=customer_email(row["customer"])))
        uow.commit()
    ORDERS.labels("ready").inc()
    log.info("order ready", extra={"order_id": row["id"]})
    return order_from_row(row)
