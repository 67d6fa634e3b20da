"""Postgres (schema ``bakery``) through SQLAlchemy Core: the only module of bakery-service that holds SQL.

One repository per table family, each bound to the connection of a unit of work (unit_of_work.py), so a
change and the outbox rows it causes commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping


class _Repository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _one(self, sql: str, **params: Any) -> RowMapping | None:
        return self.connection.execute(sa.text(sql), params).mappings().first()

    def _all(self, sql: str, **params: Any) -> list[RowMapping]:
        return list(self.connection.execute(sa.text(sql), params).mappings())

    def _written(self, sql: str, **params: Any) -> RowMapping:
        """The row an INSERT or UPDATE ... RETURNING wrote (one the caller knows exists)."""
        row = self._one(sql, **params)
        if row is None:
            raise LookupError(f"nothing was written by: {sql.split()[0]} ...")
        return row

    def _execute(self, sql: str, params: dict[str, Any] | list[dict[str, Any]]) -> None:
        self.connection.execute(sa.text(sql), params)


# --- cakes -----------------------------------------------------------------------------------------------
_CAKE_SELECT = """
SELECT c.id, c.name, c.created_at,
       coalesce(jsonb_agg(jsonb_build_object('name', i.name, 'amount', i.amount::text, 'unit', i.unit)
                          ORDER BY i.position) FILTER (WHERE i.name IS NOT NULL), '[]'::jsonb) AS ingredients
FROM bakery.cakes c LEFT JOIN bakery.cake_ingredients i ON i.cake_id = c.id
"""
_CAKE_LOCKS = {
    "SHARE": "SELECT id FROM bakery.cakes WHERE id = :id FOR SHARE",
    "UPDATE": "SELECT id FROM bakery.cakes WHERE id = :id FOR UPDATE",
}


class Cakes(_Repository):
    def add(self, cake_id: str, name: str, ingredients: Iterable[tuple[str, str, str]]) -> RowMapping | None:
        """The cake as stored; None when the id exists (nothing written)."""
        inserted = self._one(
            "INSERT INTO bakery.cakes (id, name) VALUES (:id, :name) ON CONFLICT (id) DO NOTHING RETURNING id",
            id=cake_id,
            name=name,
        )
        if inserted is None:
            return None
        self._execute(
            "INSERT INTO bakery.cake_ingredients (cake_id, position, name, amount, unit) "
            "VALUES (:cake_id, :position, :name, CAST(:amount AS numeric), :unit)",
            [
                {"cake_id": cake_id, "position": i, "name": n, "amount": a, "unit": u}
                for i, (n, a, u) in enumerate(ingredients)
            ],
        )
        return self.get(cake_id)

    def get(self, cake_id: str, *, lock: str | None = None) -> RowMapping | None:
        if lock:
            # Placing an order shares the cake's row lock and deleting the cake takes it exclusively, so an
            # order cannot slip in between the "no open orders" check and the delete.
            if self._one(_CAKE_LOCKS[lock], id=cake_id) is None:
                return None
        return self._one(_CAKE_SELECT + " WHERE c.id = :id GROUP BY c.id", id=cake_id)

    def all(self) -> list[RowMapping]:
        return self._all(_CAKE_SELECT + " GROUP BY c.id ORDER BY c.name, c.id")

    def open_orders(self, cake_id: str) -> list[int]:
        rows = self._all("SELECT id FROM bakery.orders WHERE recipe = :id AND state = 'placed' ORDER BY id", id=cake_id)
        return [r["id"] for r in rows]

    def delete(self, cake_id: str) -> None:
        self._execute("DELETE FROM bakery.cakes WHERE id = :id", {"id": cake_id})


# --- orders ----------------------------------------------------------------------------------------------
# A day filter's bounds: midnight of the day at the caller's UTC offset, as an instant.
_DAY_STARTS = "(CAST(:{day} AS date) - make_interval(mins => :utc_offset)) AT TIME ZONE 'UTC'"
_DAY_ENDS = "(CAST(:{day} AS date) + 1 - make_interval(mins => :utc_offset)) AT TIME ZONE 'UTC'"


def _like_pattern(text: str) -> str:
    """``text`` anywhere in the value: its own % and _ (and the escape) matched literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Orders(_Repository):
    def add(self, values: dict[str, Any]) -> RowMapping:
        return self._written(
            """INSERT INTO bakery.orders (customer, recipe, recipe_name, persons, quantity, extra_ingredients,
                                          required_ingredients)
               VALUES (:customer, :recipe, :recipe_name, :persons, :quantity, CAST(:extra AS jsonb),
                       CAST(:required AS jsonb))
               RETURNING *""",
            **values,
        )

    def get(self, order_id: int, *, for_update: bool = False) -> RowMapping | None:
        sql = "SELECT * FROM bakery.orders WHERE id = :id"
        return self._one(sql + " FOR UPDATE" if for_update else sql, id=order_id)

    def search(
        self,
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
        # The window count is taken before LIMIT, so one query gives the page and the total. The condition is
        # joined from the fixed fragments above; the caller's values go as bound parameters only.
        matching = f"SELECT *, count(*) OVER () AS total FROM bakery.orders WHERE {condition}"  # noqa: S608  # nosec B608
        rows = self._all(
            matching + " ORDER BY id DESC LIMIT :limit OFFSET :offset",
            **params,
            limit=limit,
            offset=offset,
        )
        if rows:
            return int(rows[0]["total"]), rows
        # Past the last page: the count alone.
        total = self._one(f"SELECT count(*) AS total FROM bakery.orders WHERE {condition}", **params)  # noqa: S608  # nosec B608
        return (int(total["total"]) if total else 0), rows

    def on_ticket(self, ticket_key: str) -> list[RowMapping]:
        return self._all("SELECT * FROM bakery.orders WHERE ticket_key = :key ORDER BY id FOR UPDATE", key=ticket_key)

    def cancel(self, order_id: int) -> RowMapping:
        return self._written(
            "UPDATE bakery.orders SET state = 'cancelled', cancelled_at = now() WHERE id = :id RETURNING *",
            id=order_id,
        )

    def mark_ready(self, order_id: int) -> RowMapping:
        return self._written(
            "UPDATE bakery.orders SET state = 'ready', ready_at = now() WHERE id = :id RETURNING *", id=order_id
        )

    def record_ready_notice(self, order_id: int, channel: str, recipient: str) -> None:
        self._execute(
            "UPDATE bakery.orders SET ready_channel = :channel, ready_recipient = :recipient, "
            "ready_notified_at = now() WHERE id = :id",
            {"id": order_id, "channel": channel, "recipient": recipient},
        )

    def lock_unbatched(self, only: int | None = None) -> list[RowMapping]:
        """The orders no ticket covers yet, locked: a concurrent batch waits, then finds them taken."""
        return self._all(
            "SELECT * FROM bakery.orders WHERE batch_id IS NULL AND state <> 'cancelled' "
            "AND (CAST(:only AS bigint) IS NULL OR id = :only) ORDER BY id FOR UPDATE",
            only=only,
        )

    def of_batch(self, batch_id: int) -> list[RowMapping]:
        return self._all("SELECT id, state FROM bakery.orders WHERE batch_id = :id ORDER BY id", id=batch_id)


# --- ingredient batches (Jira tickets) -------------------------------------------------------------------
class Batches(_Repository):
    def add(self, kind: str, trigger: str, ingredients_json: str) -> RowMapping:
        return self._written(
            "INSERT INTO bakery.ingredient_batches (kind, trigger, ingredients) "
            "VALUES (:kind, :trigger, CAST(:ingredients AS jsonb)) RETURNING *",
            kind=kind,
            trigger=trigger,
            ingredients=ingredients_json,
        )

    def assign(self, batch_id: int, order_ids: list[int]) -> None:
        self._execute(
            "UPDATE bakery.orders SET batch_id = :batch WHERE id = ANY(:ids)", {"batch": batch_id, "ids": order_ids}
        )

    def record_ticket(self, batch_id: int, ticket_key: str) -> None:
        params = {"key": ticket_key, "id": batch_id}
        self._execute("UPDATE bakery.ingredient_batches SET ticket_key = :key WHERE id = :id", params)
        self._execute("UPDATE bakery.orders SET ticket_key = :key WHERE batch_id = :id", params)

    def get(self, batch_id: int) -> RowMapping | None:
        return self._one("SELECT * FROM bakery.ingredient_batches WHERE id = :id", id=batch_id)

    def claim_schedule_day(self, day: date) -> bool:
        """True for the first caller of the day's scheduled run; the others find the day taken."""
        claimed = self._one(
            "INSERT INTO bakery.schedule_runs (day) VALUES (:day) ON CONFLICT (day) DO NOTHING RETURNING day", day=day
        )
        return claimed is not None

    def record_schedule_batch(self, day: date, batch_id: int) -> None:
        self._execute("UPDATE bakery.schedule_runs SET batch_id = :b WHERE day = :day", {"b": batch_id, "day": day})


# --- employees -------------------------------------------------------------------------------------------
class Employees(_Repository):
    def add(self, first: str, last: str, github: str | None, developer: bool) -> RowMapping:
        return self._written(
            "INSERT INTO bakery.employees (first_name, last_name, github_username, developer) "
            "VALUES (:first, :last, :github, :developer) RETURNING *",
            first=first,
            last=last,
            github=github,
            developer=developer,
        )

    def get(self, employee_id: int, *, for_update: bool = False) -> RowMapping | None:
        sql = "SELECT * FROM bakery.employees WHERE id = :id"
        return self._one(sql + " FOR UPDATE" if for_update else sql, id=employee_id)

    def all(self) -> list[RowMapping]:
        return self._all("SELECT * FROM bakery.employees ORDER BY id")

    def update(self, employee_id: int, first: str, last: str, github: str | None, developer: bool) -> RowMapping:
        return self._written(
            "UPDATE bakery.employees SET first_name = :first, last_name = :last, github_username = :github, "
            "developer = :developer WHERE id = :id RETURNING *",
            id=employee_id,
            first=first,
            last=last,
            github=github,
            developer=developer,
        )

    def delete(self, employee_id: int) -> None:
        self._execute("DELETE FROM bakery.employees WHERE id = :id", {"id": employee_id})

    def developer_with_account(self, username: str) -> bool:
        """Whether some employee is a developer with this GitHub account now (GitHub logins ignore case)."""
        row = self._one(
            "SELECT 1 AS yes FROM bakery.employees WHERE developer AND lower(github_username) = lower(:u) LIMIT 1",
            u=username,
        )
        return row is not None


# --- the customers' Google Docs ---------------------------------------------------------------------------
class DriveDocuments(_Repository):
    def get(self, customer_slug: str) -> str | None:
        row = self._one("SELECT file_id FROM bakery.drive_documents WHERE customer_slug = :s", s=customer_slug)
        return str(row["file_id"]) if row else None

    def claim(self, customer_slug: str, file_id: str) -> str:
        """Store ``file_id`` as the customer's document unless one is stored already; returns the one stored."""
        self._execute(
            "INSERT INTO bakery.drive_documents (customer_slug, file_id) VALUES (:s, :f) "
            "ON CONFLICT (customer_slug) DO NOTHING",
            {"s": customer_slug, "f": file_id},
        )
        stored = self.get(customer_slug)
        if stored is None:
            raise LookupError(f"no document is stored for {customer_slug!r} after storing one")
        return stored
