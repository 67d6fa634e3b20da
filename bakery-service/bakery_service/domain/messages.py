"""The words the bakery sends out: Jira tickets, the ready notice, the line of a cancelled order."""

from __future__ import annotations

from datetime import datetime

from .amounts import Amount


def ingredients_table(lines: list[tuple[str, Amount]]) -> str:
    """A pipe table (header, rule, one row per ingredient): the Jira client turns it into a real table."""
    rows = [f"| {name} | {amount.text()} |" for name, amount in lines]
    return "\n".join(["| Ingredient | Quantity |", "| --- | --- |", *rows])


def order_ticket(order_id: int, lines: list[tuple[str, Amount]], order_url: str) -> tuple[str, str]:
    """Summary and description of the per-order ticket."""
    description = "\n".join(
        [
            "Hello dear provider,",
            "",
            "We would like to order these ingredients:",
            "",
            ingredients_table(lines),
            "",
            f"Order: {order_url}",
            "",
            "Have a nice day!",
        ]
    )
    return f"Order #{order_id}", description


def batch_ticket(day: str, order_ids: list[int], lines: list[tuple[str, Amount]], base_url: str) -> tuple[str, str]:
    """Summary and description of the daily ticket: the sum of every order since the previous one."""
    links = ", ".join(f"#{i} ({base_url}/orders/{i})" for i in order_ids)
    description = "\n".join(
        [
            "Hello dear provider,",
            "",
            f"We would like to order these ingredients for {len(order_ids)} order(s):",
            "",
            ingredients_table(lines),
            "",
            f"Orders: {links}",
            "",
            "Have a nice day!",
        ]
    )
    return f"Ingredients for {day} ({len(order_ids)} orders)", description


def ready_text(customer: str, order_id: int, recipe_name: str) -> str:
    return f"Hello {customer}, your order #{order_id} ({recipe_name}) is ready. See you soon at the bakery!"


def ready_subject(order_id: int) -> str:
    return f"Your order #{order_id} is ready"


def cancelled_title(customer: str) -> str:
    return f"{customer} cancelled orders"


def cancelled_line(order_id: int, recipe_name: str, when: datetime) -> str:
    """``- Order 21 [Chocolate Cake] : Date 01/01/2022 06:10`` (UTC, day first, as the bakery writes dates)."""
    return f"- Order {order_id} [{recipe_name}] : Date {when.strftime('%d/%m/%Y %H:%M')}"
