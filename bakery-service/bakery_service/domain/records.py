"""Stored rows (plain mappings) into the API's models; the inverse of what the use cases store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .amounts import Amount
from .models import Cake, Employee, Order, Permissions, ReadyNotice, RequiredIngredient


class Record(Protocol):
    """A stored row, read by column name (a database row mapping, a dict)."""

    def __getitem__(self, key: str, /) -> Any: ...


def amount_line(name: str, amount: Amount) -> RequiredIngredient:
    return RequiredIngredient(ingredient=name, amount=amount.as_json(), unit=amount.unit, display=amount.text())


def stored_amounts(items: list[Mapping[str, Any]]) -> list[tuple[str, Amount]]:
    """``[{"name", "amount" (decimal text), "unit"}]`` as stored in Postgres."""
    return [(i["name"], Amount.stored(i["amount"], i["unit"])) for i in items]


def to_stored(amounts: list[tuple[str, Amount]] | dict[str, Amount]) -> list[dict[str, str]]:
    pairs = amounts.items() if isinstance(amounts, dict) else amounts
    return [{"name": name, "amount": str(a.value), "unit": a.unit} for name, a in pairs]


def cake_from_row(row: Record) -> Cake:
    amounts = stored_amounts(row["ingredients"])
    return Cake(
        id=row["id"],
        name=row["name"],
        ingredients={name: a.as_json() for name, a in amounts},
        units={name: a.unit for name, a in amounts},
        created_at=row["created_at"],
    )


def order_from_row(row: Record) -> Order:
    ready = None
    if row["ready_at"] is not None:
        ready = ReadyNotice(
            at=row["ready_at"],
            state="sent" if row["ready_notified_at"] else "pending",
            channel=row["ready_channel"],
            recipient=row["ready_recipient"],
            notified_at=row["ready_notified_at"],
        )
    return Order(
        id=row["id"],
        customer=row["customer"],
        recipe=row["recipe"],
        recipe_name=row["recipe_name"],
        persons=row["persons"],
        quantity=row["quantity"],
        extra_ingredients={name: a.as_json() for name, a in stored_amounts(row["extra_ingredients"])},
        required_ingredients=[amount_line(n, a) for n, a in stored_amounts(row["required_ingredients"])],
        state=row["state"],
        ticket_key=row["ticket_key"],
        ready=ready,
        cancelled_at=row["cancelled_at"],
        created_at=row["created_at"],
    )


def employee_from_row(row: Record) -> Employee:
    return Employee(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        github_username=row["github_username"],
        permissions=Permissions(developer=row["developer"]),
        created_at=row["created_at"],
    )
