"""Read orders: one by id, or a page of those a search matches."""

from __future__ import annotations

from servicekit.domain_errors import NotFound

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.models import Order, OrderPage, OrderQuery
from ..domain.records import order_from_row


def get_order(uow: BakeryUnitOfWork, order_id: int) -> Order:
    with uow:
        row = uow.orders.get(order_id)
    if row is None:
        raise NotFound(f"No order has the id {order_id}.")
    return order_from_row(row)


def list_orders(uow: BakeryUnitOfWork, query: OrderQuery) -> OrderPage:
    """One page of the orders the filters match, newest first, and how many match in all."""
    customer = (query.customer or "").strip() or None  # a blank search filters nothing
    with uow:
        total, rows = uow.orders.search(
            customer=customer,
            state=query.state,
            placed_from=query.placed_from,
            placed_to=query.placed_to,
            utc_offset_minutes=query.utc_offset_minutes,
            limit=query.limit,
            offset=query.offset,
        )
    return OrderPage(items=[order_from_row(r) for r in rows], total=total, limit=query.limit, offset=query.offset)
