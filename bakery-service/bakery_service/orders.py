"""Orders: place (required ingredients computed exactly), cancel (idempotent, noted in Drive), mark ready
(Slack message, or e-mail when Slack is not set up). Every outside action goes to the outbox in the same
transaction as the change; a cancellation after the ready notice reached the customer sends a correction."""

from __future__ import annotations

import json
import logging
from datetime import UTC

from sqlalchemy.engine import Connection, RowMapping

from .actions import (
    DriveAppendLine,
    EmailCancelledNotice,
    EmailReadyNotice,
    SlackCancelledNotice,
    SlackReadyNotice,
    add_action,
)
from .adapters import postgres as pg
from .adapters.integrations import IntegrationClients
from .adapters.postgres import BakeryStore
from .batches import create_batch
from .domain import messages
from .domain.amounts import parse_ingredients, required_ingredients
from .domain.errors import Conflict, NotFound
from .domain.models import Order, OrderCreate, OrderPage, OrderQuery
from .domain.naming import customer_email, snake_case
from .domain.records import order_from_row, stored_amounts, to_stored
from .metrics import ORDERS
from .settings import Settings

log = logging.getLogger("bakery_service.orders")


def place_order(store: BakeryStore, settings: Settings, body: OrderCreate) -> Order:
    extras = parse_ingredients(body.extra_ingredients, "extra_ingredients")
    with store.begin() as conn:
        cake = pg.get_cake(conn, body.recipe, lock="SHARE")
        if cake is None:
            raise NotFound(
                f"recipe: no cake has the id {body.recipe!r} (GET /cakes lists them).",
                code="unknown_recipe",
                field="recipe",
                recipe=body.recipe,
            )
        recipe = dict(stored_amounts(cake["ingredients"]))
        required = required_ingredients(recipe, body.persons, body.quantity, extras)
        row = pg.insert_order(
            conn,
            {
                "customer": body.customer.strip(),
                "recipe": cake["id"],
                "recipe_name": cake["name"],
                "persons": body.persons,
                "quantity": body.quantity,
                "extra": json.dumps(to_stored(extras)),
                "required": json.dumps(to_stored(required)),
            },
        )
        if settings.jira_mode == "per-order":
            create_batch(conn, settings, "order", "order", [row])
            row = pg.get_order(conn, row["id"])
    ORDERS.labels("placed").inc()
    log.info("order placed", extra={"order_id": row["id"], "recipe": row["recipe"], "quantity": row["quantity"]})
    return order_from_row(row)


def get_order(store: BakeryStore, order_id: int) -> Order:
    with store.read() as conn:
        row = pg.get_order(conn, order_id)
    if row is None:
        raise NotFound(f"No order has the id {order_id}.")
    return order_from_row(row)


def list_orders(store: BakeryStore, query: OrderQuery) -> OrderPage:
    """One page of the orders the filters match, newest first, and how many match in all."""
    customer = (query.customer or "").strip() or None  # a blank search filters nothing
    with store.read() as conn:
        total, rows = pg.list_orders(
            conn,
            customer=customer,
            state=query.state,
            placed_from=query.placed_from,
            placed_to=query.placed_to,
            utc_offset_minutes=query.utc_offset_minutes,
            limit=query.limit,
            offset=query.offset,
        )
    return OrderPage(items=[order_from_row(r) for r in rows], total=total, limit=query.limit, offset=query.offset)


def cancel_locked(conn: Connection, row: RowMapping) -> RowMapping:
    """Cancel an order already locked by the caller; a cancelled order is returned unchanged."""
    if row["state"] == "cancelled":
        return row
    notified = row["ready_notified_at"] is not None
    row = pg.cancel_order(conn, row["id"])
    add_action(
        conn,
        DriveAppendLine(
            order_id=row["id"],
            customer_slug=snake_case(row["customer"]),
            title=messages.cancelled_title(row["customer"]),
            line=messages.cancelled_line(row["id"], row["recipe_name"], row["cancelled_at"].astimezone(UTC)),
        ),
    )
    if notified:
        # The customer was told it is ready: they hear it is not, on the channel that told them.
        if row["ready_channel"] == "slack":
            add_action(conn, SlackCancelledNotice(order_id=row["id"], user_id=row["ready_recipient"]))
        else:
            add_action(conn, EmailCancelledNotice(order_id=row["id"], to=row["ready_recipient"]))
    ORDERS.labels("cancelled").inc()
    log.info("order cancelled", extra={"order_id": row["id"]})
    return row


def cancel_order(store: BakeryStore, order_id: int) -> Order:
    with store.begin() as conn:
        row = pg.get_order(conn, order_id, for_update=True)
        if row is None:
            raise NotFound(f"No order has the id {order_id}.")
        row = cancel_locked(conn, row)
    return order_from_row(row)


def mark_ready(store: BakeryStore, clients: IntegrationClients, order_id: int) -> Order:
    with store.begin() as conn:
        row = pg.get_order(conn, order_id, for_update=True)
        if row is None:
            raise NotFound(f"No order has the id {order_id}.")
        if row["state"] == "cancelled":
            raise Conflict(
                f"Order {order_id} is cancelled; it cannot be ready.", code="order_cancelled", order_id=order_id
            )
        if row["state"] == "ready":
            return order_from_row(row)
        row = pg.mark_ready(conn, order_id)
        # Slack first when the bakery has one; the Slack action falls back to e-mail for an unknown name.
        if clients.configured("slack"):
            add_action(conn, SlackReadyNotice(order_id=row["id"], customer=row["customer"]))
        else:
            add_action(conn, EmailReadyNotice(order_id=row["id"], to=customer_email(row["customer"])))
    ORDERS.labels("ready").inc()
    log.info("order ready", extra={"order_id": row["id"]})
    return order_from_row(row)
