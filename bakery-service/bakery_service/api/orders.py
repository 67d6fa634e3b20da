"""``/orders``: place, list, read, cancel (idempotent), mark ready."""

from __future__ import annotations

from flask import Blueprint, Response
from servicekit import ProblemModel, endpoint

from ..domain.models import Order, OrderCreate, OrderPage, OrderQuery
from ..usecases.cancel_order import cancel_order as cancel
from ..usecases.mark_ready import mark_ready as ready
from ..usecases.place_order import place_order as place
from ..usecases.read_orders import get_order as get
from ..usecases.read_orders import list_orders as find
from ..wiring import deps
from .responses import checked_id, json_response

bp = Blueprint("orders", __name__)


@bp.post("/orders")
@endpoint(
    summary="Place an order: required ingredients = recipe × persons × quantity + extras once (404 unknown recipe)",
    body=OrderCreate,
    response=Order,
    status=201,
    responses={409: ProblemModel},
    tags=["orders"],
)
def place_order(body: OrderCreate) -> Response:
    d = deps()
    order = place(d.uow(), body, jira_mode=d.settings.jira_mode, public_base_url=d.settings.public_base_url)
    return json_response(order, 201, {"Location": f"/orders/{order.id}"})


@bp.get("/orders")
@endpoint(
    summary="A page of orders, newest first, found by customer, state and day placed; with the total that match",
    query=OrderQuery,
    response=OrderPage,
    tags=["orders"],
)
def list_orders(query: OrderQuery) -> Response:
    return json_response(find(deps().uow(), query))


@bp.get("/orders/<order_id>")
@endpoint(summary="One order, with its required ingredients, ticket and ready notice", response=Order, tags=["orders"])
def get_order(order_id: str) -> Response:
    return json_response(get(deps().uow(), checked_id(order_id, "order")))


@bp.delete("/orders/<order_id>")
@endpoint(
    summary="Cancel an order (cancelling again changes nothing); noted in the customer's Drive document",
    response=Order,
    tags=["orders"],
)
def cancel_order(order_id: str) -> Response:
    return json_response(cancel(deps().uow(), checked_id(order_id, "order")))


@bp.post("/orders/<order_id>/ready")
@endpoint(
    summary="Mark an order ready: Slack message to the customer, or e-mail to <snake_case(customer)>@gmail.com",
    response=Order,
    responses={409: ProblemModel},
    tags=["orders"],
)
def mark_ready(order_id: str) -> Response:
    d = deps()
    checked = checked_id(order_id, "order")
    return json_response(ready(d.uow(), checked, slack_configured=d.clients.configured("slack")))
