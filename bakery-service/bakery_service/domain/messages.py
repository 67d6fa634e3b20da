"""The words the bakery sends out: Jira tickets, the ready notice, the line of a cancelled order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

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


@dataclass(frozen=True)
class Pickup:
    """Where and when an order is collected (the bakery's settings)."""

    bakery: str
    address: str
    hours: str


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    html: str


def _letter(subject: str, greeting: str, paragraphs: list[str], pickup: Pickup) -> Letter:
    text = "\n\n".join([greeting, *paragraphs, f"{pickup.bakery}\n{pickup.address}\nOpen {pickup.hours}"]) + "\n"
    html_paragraphs = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head><body>"
        f"<p>{escape(greeting)}</p>{html_paragraphs}"
        f"<p><strong>{escape(pickup.bakery)}</strong><br>{escape(pickup.address)}<br>Open {escape(pickup.hours)}</p>"
        "</body></html>"
    )
    return Letter(subject, text, html)


def ready_email(customer: str, order_id: int, recipe_name: str, pickup: Pickup) -> Letter:
    """The ready notice by e-mail: what is ready, where and when to collect it; plain text and HTML."""
    return _letter(
        ready_subject(order_id),
        f"Hello {customer},",
        [
            f"Your order #{order_id} ({recipe_name}) is ready.",
            f"You can collect it at {pickup.address}, {pickup.hours}.",
            "See you soon!",
        ],
        pickup,
    )


def cancelled_subject(order_id: int) -> str:
    return f"Your order #{order_id} was cancelled"


def cancelled_text(customer: str, order_id: int, recipe_name: str) -> str:
    return (
        f"Hello {customer}, your order #{order_id} ({recipe_name}) was cancelled: "
        "please disregard our message that it was ready. We are sorry for the confusion."
    )


def cancelled_email(customer: str, order_id: int, recipe_name: str, pickup: Pickup) -> Letter:
    """Follows a ready notice for an order cancelled since."""
    return _letter(
        cancelled_subject(order_id),
        f"Hello {customer},",
        [
            f"Your order #{order_id} ({recipe_name}) was cancelled.",
            "Please disregard our message that it was ready. We are sorry for the confusion.",
        ],
        pickup,
    )


def cancelled_title(customer: str) -> str:
    return f"{customer} cancelled orders"


def cancelled_line(order_id: int, recipe_name: str, when: datetime) -> str:
    """``- Order 21 [Chocolate Cake] : Date 01/01/2022 06:10`` (UTC, day first, as the bakery writes dates)."""
    return f"- Order {order_id} [{recipe_name}] : Date {when.strftime('%d/%m/%Y %H:%M')}"
