"""Postgres (schema ``bakery``) through SQLAlchemy Core: the only module of bakery-service that holds SQL.

Use cases open the transaction (``with store.begin() as conn``) and pass the connection to these functions,
so a change and the outbox rows it causes commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

UNIQUE_VIOLATION = "23505"


class BakeryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn


def _one(conn: Connection, sql: str, **params: Any) -> RowMapping | None:
    return conn.execute(sa.text(sql), params).mappings().first()


def _all(conn: Connection, sql: str, **params: Any) -> list[RowMapping]:
    return list(conn.execute(sa.text(sql), params).mappings())


def is_unique_violation(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == UNIQUE_VIOLATION


# --- cakes -----------------------------------------------------------------------------------------------
_CAKE_SELECT = """
SELECT c.id, c.name, c.created_at,
       coalesce(jsonb_agg(jsonb_build_object('name', i.name, 'amount', i.amount::text, 'unit', i.unit)
                          ORDER BY i.position) FILTER (WHERE i.name IS NOT NULL), '[]'::jsonb) AS ingredients
FROM bakery.cakes c LEFT JOIN bakery.cake_ingredients i ON i.cake_id = c.id
"""


def insert_cake(conn: Connection, cake_id: str, name: str, ingredients: Iterable[tuple[str, str, str]]) -> bool:
    """False when the id exists (nothing written)."""
    inserted = _one(
        conn,
        "INSERT INTO bakery.cakes (id, name) VALUES (:id, :name) ON CONFLICT (id) DO NOTHING RETURNING id",
        id=cake_id,
        name=name,
    )
    if inserted is None:
        return False
    conn.execute(
        sa.text(
            "INSERT INTO bakery.cake_ingredients (cake_id, position, name, amount, unit) "
            "VALUES (:cake_id, :position, :name, CAST(:amount AS numeric), :unit)"
        ),
        [
            {"cake_id": cake_id, "position": i, "name": n, "amount": a, "unit": u}
            for i, (n, a, u) in enumerate(ingredients)
        ],
    )
    return True


_CAKE_LOCKS = {
    "SHARE": "SELECT id FROM bakery.cakes WHERE id = :id FOR SHARE",
    "UPDATE": "SELECT id FROM bakery.cakes WHERE id = :id FOR UPDATE",
}


def get_cake(conn: Connection, cake_id: str, *, lock: str | None = None) -> RowMapping | None:
    if lock:
        # Placing an order shares the cake's row lock and deleting the cake takes it exclusively, so an
        # order cannot slip in between the "no open orders" check and the delete.
        if _one(conn, _CAKE_LOCKS[lock], id=cake_id) is None:
            return None
    return _one(conn, _CAKE_SELECT + " WHERE c.id = :id GROUP BY c.id", id=cake_id)


def list_cakes(conn: Connection) -> list[RowMapping]:
    return _all(conn, _CAKE_SELECT + " GROUP BY c.id ORDER BY c.name, c.id")


def open_orders_of(conn: Connection, cake_id: str) -> list[int]:
    rows = _all(conn, "SELECT id FROM bakery.orders WHERE recipe = :id AND state = 'placed' ORDER BY id", id=cake_id)
    return [r["id"] for r in rows]


def delete_cake(conn: Connection, cake_id: str) -> None:
    conn.execute(sa.text("DELETE FROM bakery.cakes WHERE id = :id"), {"id": cake_id})


# --- orders ----------------------------------------------------------------------------------------------
def insert_order(conn: Connection, values: dict[str, Any]) -> RowMapping:
    row = _one(
        conn,
        """INSERT INTO bakery.orders (customer, recipe, recipe_name, persons, quantity, extra_ingredients,
                                      required_ingredients)
           VALUES (:customer, :recipe, :recipe_name, :persons, :quantity, CAST(:extra AS jsonb),
                   CAST(:required AS jsonb))
           RETURNING *""",
        **values,
    )
    assert row is not None
    return row


def get_order(conn: Connection, order_id: int, *, for_update: bool = False) -> RowMapping | None:
    sql = (
        "SELECT * FROM bakery.orders WHERE id = :id FOR UPDATE"
        if for_update
        else "SELECT * FROM bakery.orders WHERE id = :id"
    )
    return _one(conn, sql, id=order_id)


# A day filter's bounds: midnight of the day at the caller's UTC offset, as an instant.
_DAY_STARTS = "(CAST(:{day} AS date) - make_interval(mins => :utc_offset)) AT TIME ZONE 'UTC'"
_DAY_ENDS = "(CAST(:{day} AS date) + 1 - make_interval(mins => :utc_offset)) AT TIME ZONE 'UTC'"


def _like_pattern(text: str) -> str:
    """``text`` anywhere in the value: its own % and _ (and the escape) matched literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_orders(
    conn: Connection,
    *,
    customer: str | None = None,
    state: str | None = None,
    placed_from: date | None = None,
    placed_to: date | None = None,
    utc_offset_minutes: int = 0,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[RowMapping]]:
    """``(total matching, the page)``, newest first."""
    where = ["TRUE"]
    if customer:
        where.append("customer ILIKE :customer ESCAPE '\\'")
    if state:
        where.append("state = :state")
    if placed_from:
        where.append("created_at >= " + _DAY_STARTS.format(day="placed_from"))
    if placed_to:
        where.append("created_at < " + _DAY_ENDS.format(day="placed_to"))
    condition = " AND ".join(where)
    params = {
        "customer": _like_pattern(customer) if customer else None,
        "state": state,
        "placed_from": placed_from,
        "placed_to": placed_to,
        "utc_offset": utc_offset_minutes,
    }
    # The window count is taken before LIMIT, so one query gives the page and the total.
    rows = _all(
        conn,
        f"SELECT *, count(*) OVER () AS total FROM bakery.orders WHERE {condition} "  # noqa: S608  # nosec B608 - fixed fragments
        "ORDER BY id DESC LIMIT :limit OFFSET :offset",
        **params,
        limit=limit,
        offset=offset,
    )
    if rows:
        return rows[0]["total"], rows
    # Past the last page: the count alone.
    total = _one(conn, f"SELECT count(*) AS total FROM bakery.orders WHERE {condition}", **params)  # noqa: S608  # nosec B608
    return (total["total"] if total else 0), rows


def orders_on_ticket(conn: Connection, ticket_key: str) -> list[RowMapping]:
    return _all(conn, "SELECT * FROM bakery.orders WHERE ticket_key = :key ORDER BY id FOR UPDATE", key=ticket_key)


def cancel_order(conn: Connection, order_id: int) -> RowMapping:
    row = _one(
        conn,
        "UPDATE bakery.orders SET state = 'cancelled', cancelled_at = now() WHERE id = :id RETURNING *",
        id=order_id,
    )
    assert row is not None
    return row


def mark_ready(conn: Connection, order_id: int) -> RowMapping:
    row = _one(
        conn, "UPDATE bakery.orders SET state = 'ready', ready_at = now() WHERE id = :id RETURNING *", id=order_id
    )
    assert row is not None
    return row


def record_ready_notice(conn: Connection, order_id: int, channel: str, recipient: str) -> None:
    conn.execute(
        sa.text(
            "UPDATE bakery.orders SET ready_channel = :channel, ready_recipient = :recipient, "
            "ready_notified_at = now() WHERE id = :id"
        ),
        {"id": order_id, "channel": channel, "recipient": recipient},
    )


# --- ingredient batches (Jira tickets) -------------------------------------------------------------------
def lock_unbatched_orders(conn: Connection, only: int | None = None) -> list[RowMapping]:
    """The orders no ticket covers yet, locked: a concurrent batch waits, then finds them taken."""
    return _all(
        conn,
        "SELECT * FROM bakery.orders WHERE batch_id IS NULL AND state <> 'cancelled' "
        "AND (CAST(:only AS bigint) IS NULL OR id = :only) ORDER BY id FOR UPDATE",
        only=only,
    )


def claim_schedule_day(conn: Connection, day: date) -> bool:
    """True for the first caller of the day's scheduled run; the others find the day taken."""
    return (
        _one(
            conn,
            "INSERT INTO bakery.schedule_runs (day) VALUES (:day) ON CONFLICT (day) DO NOTHING RETURNING day",
            day=day,
        )
        is not None
    )


def record_schedule_batch(conn: Connection, day: date, batch_id: int) -> None:
    conn.execute(sa.text("UPDATE bakery.schedule_runs SET batch_id = :b WHERE day = :day"), {"b": batch_id, "day": day})


def insert_batch(conn: Connection, kind: str, trigger: str, ingredients_json: str) -> RowMapping:
    row = _one(
        conn,
        "INSERT INTO bakery.ingredient_batches (kind, trigger, ingredients) "
        "VALUES (:kind, :trigger, CAST(:ingredients AS jsonb)) RETURNING *",
        kind=kind,
        trigger=trigger,
        ingredients=ingredients_json,
    )
    assert row is not None
    return row


def assign_batch(conn: Connection, batch_id: int, order_ids: list[int]) -> None:
    sql = "UPDATE bakery.orders SET batch_id = :batch WHERE id = ANY(:ids)"
    conn.execute(sa.text(sql), {"batch": batch_id, "ids": order_ids})


def record_ticket(conn: Connection, batch_id: int, ticket_key: str) -> None:
    conn.execute(
        sa.text("UPDATE bakery.ingredient_batches SET ticket_key = :key WHERE id = :id"),
        {"key": ticket_key, "id": batch_id},
    )
    conn.execute(
        sa.text("UPDATE bakery.orders SET ticket_key = :key WHERE batch_id = :id"), {"key": ticket_key, "id": batch_id}
    )


def get_batch(conn: Connection, batch_id: int) -> RowMapping | None:
    return _one(conn, "SELECT * FROM bakery.ingredient_batches WHERE id = :id", id=batch_id)


# --- employees -------------------------------------------------------------------------------------------
def insert_employee(conn: Connection, first: str, last: str, github: str | None, developer: bool) -> RowMapping:
    row = _one(
        conn,
        "INSERT INTO bakery.employees (first_name, last_name, github_username, developer) "
        "VALUES (:first, :last, :github, :developer) RETURNING *",
        first=first,
        last=last,
        github=github,
        developer=developer,
    )
    assert row is not None
    return row


def get_employee(conn: Connection, employee_id: int, *, for_update: bool = False) -> RowMapping | None:
    sql = "SELECT * FROM bakery.employees WHERE id = :id"
    return _one(conn, sql + " FOR UPDATE" if for_update else sql, id=employee_id)


def list_employees(conn: Connection) -> list[RowMapping]:
    return _all(conn, "SELECT * FROM bakery.employees ORDER BY id")


def update_employee(
    conn: Connection, employee_id: int, first: str, last: str, github: str | None, developer: bool
) -> RowMapping:
    row = _one(
        conn,
        "UPDATE bakery.employees SET first_name = :first, last_name = :last, github_username = :github, "
        "developer = :developer WHERE id = :id RETURNING *",
        id=employee_id,
        first=first,
        last=last,
        github=github,
        developer=developer,
    )
    assert row is not None
    return row


def delete_employee(conn: Connection, employee_id: int) -> None:
    conn.execute(sa.text("DELETE FROM bakery.employees WHERE id = :id"), {"id": employee_id})


# --- what the outside actions check when they are made -----------------------------------------------
def orders_of_batch(conn: Connection, batch_id: int) -> list[RowMapping]:
    return _all(conn, "SELECT id, state FROM bakery.orders WHERE batch_id = :id ORDER BY id", id=batch_id)


def developer_with_account(conn: Connection, username: str) -> bool:
    """Whether some employee is a developer with this GitHub account now (GitHub logins ignore case)."""
    row = _one(
        conn,
        "SELECT 1 AS yes FROM bakery.employees WHERE developer AND lower(github_username) = lower(:u) LIMIT 1",
        u=username,
    )
    return row is not None


def drive_document(conn: Connection, customer_slug: str) -> str | None:
    row = _one(conn, "SELECT file_id FROM bakery.drive_documents WHERE customer_slug = :s", s=customer_slug)
    return row["file_id"] if row else None


def claim_drive_document(conn: Connection, customer_slug: str, file_id: str) -> str:
    """Store ``file_id`` as the customer's document unless one is stored already; returns the one stored."""
    conn.execute(
        sa.text(
            "INSERT INTO bakery.drive_documents (customer_slug, file_id) VALUES (:s, :f) "
            "ON CONFLICT (customer_slug) DO NOTHING"
        ),
        {"s": customer_slug, "f": file_id},
    )
    stored = drive_document(conn, customer_slug)
    assert stored is not None
    return stored
