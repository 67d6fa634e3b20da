"""``/orders``: place, list, read, cancel (idempotent), mark ready."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field
from servicekit import ProblemModel, endpoint

from .. import orders
from ..domain.models import Order, OrderCreate, OrderList
from ..wiring import deps
from .responses import checked_id, json_response

bp = Blueprint("orders", __name__)


class OrderQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["placed", "ready", "cancelled"] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


@bp.post("/orders")
@endpoint(
    summary="Place an order: required ingredients = recipe × persons × quantity + extras once (404 unknown recipe)",
    body=OrderCreate,
    response=Order,
    status=201,
    responses={409: ProblemModel},
    tags=["orders"],
)
def place_order(body: OrderCreate):
    d = deps()
    order = orders.place_order(d.store, d.settings, body)
    return json_response(order, 201, {"Location": f"/orders/{order.id}"})


@bp.get("/orders")
@endpoint(summary="Orders, newest first, optionally by state", query=OrderQuery, response=OrderList, tags=["orders"])
def list_orders(query: OrderQuery):
    return json_response(OrderList(items=orders.list_orders(deps().store, query.state, query.limit, query.offset)))


@bp.get("/orders/<order_id>")
@endpoint(summary="One order, with its required ingredients, ticket and ready notice", response=Order, tags=["orders"])
def get_order(order_id: str):
    return json_response(orders.get_order(deps().store, checked_id(order_id, "order")))


@bp.delete("/orders/<order_id>")
@endpoint(
    summary="Cancel an order (cancelling again changes nothing); noted in the customer's Drive document",
    response=Order,
    tags=["orders"],
)
def cancel_order(order_id: str):
    return json_response(orders.cancel_order(deps().store, checked_id(order_id, "order")))


@bp.post("/orders/<order_id>/ready")
@endpoint(
    summary="Mark an order ready: Slack message to the customer, or e-mail to <snake_case(customer)>@gmail.com",
    response=Order,
    responses={409: ProblemModel},
    tags=["orders"],
)
def mark_ready(order_id: str):
    d = deps()
    return json_response(orders.mark_ready(d.store, d.clients, checked_id(order_id, "order")))
