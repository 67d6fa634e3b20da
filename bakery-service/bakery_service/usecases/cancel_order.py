"""Cancel an order (idempotent): a line in the customer's Drive document, and, when its ready notice reached
the customer, a correction on the channel that told them; both through the outbox, in the same
transaction as the change."""

from __future__ import annotations

import logging
from datetime import UTC

from servicekit.domain_errors import NotFound
from sqlalchemy.engine import RowMapping

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain import messages
from ..domain.actions import DriveAppendLine, EmailCancelledNotice, SlackCancelledNotice
from ..domain.models import Order
from ..domain.naming import snake_case
from ..domain.records import order_from_row
from ..metrics import ORDERS

log = logging.getLogger("bakery_service.orders")


def cancel_locked(uow: BakeryUnitOfWork, row: RowMapping) -> RowMapping:
    """Cancel an order the caller's unit of work has locked; a cancelled order is returned unchanged."""
    if row["state"] == "cancelled":
        return row
    notified = row["ready_notified_at"] is not None
    row = uow.orders.cancel(row["id"])
    uow.outbox.add(
        DriveAppendLine(
            order_id=row["id"],
            customer_slug=snake_case(row["customer"]),
            title=messages.cancelled_title(row["customer"]),
            line=messages.cancelled_line(row["id"], row["recipe_name"], row["cancelled_at"].astimezone(UTC)),
        )
    )
    if notified:
        # The customer was told it is ready: they hear it is not, on the channel that told them.
        if row["ready_channel"] == "slack":
            uow.outbox.add(SlackCancelledNotice(order_id=row["id"], user_id=row["ready_recipient"]))
        else:
            uow.outbox.add(EmailCancelledNotice(order_id=row["id"], to=row["ready_recipient"]))
    ORDERS.labels("cancelled").inc()
    log.info("order cancelled", extra={"order_id": row["id"]})
    return row


def cancel_order(uow: BakeryUnitOfWork, order_id: int) -> Order:
    with uow:
        row = uow.orders.get(order_id, for_update=True)
        if row is None:
            raise NotFound(f"No order has the id {order_id}.")
        row = cancel_locked(uow, row)
        uow.commit()
    return order_from_row(row)
