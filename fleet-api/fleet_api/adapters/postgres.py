# ruff: noqa: S608 - the f-strings splice constant column lists only; every value is a bound parameter.
"""fleet-api's Postgres access: one short transaction per operation, plain SQL on schema ``fleet``.

Writes that change a load and the event describing the change commit together (the outbox rows are
written on the same connection), so an event is never published for a change that rolled back, and
never lost for one that committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb
from servicekit.settings import sqlalchemy_url
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import IntegrityError

from ..domain import assignments as rules
from ..domain.errors import Conflict, NotFound
from ..domain.events import LoadEventMessage
from ..domain.models import (
    AssignmentStatus,
    DriverCreate,
    DriverListQuery,
    LoadCreate,
    LoadListQuery,
    LoadUpdate,
)

log = logging.getLogger("fleet_api.postgres")

Row = dict[str, Any]
# Called with the open connection and the event, inside the transaction of the change.
EventWriter = Callable[[Connection, LoadEventMessage], None]


def make_engine(url: str, pool_size: int = 5) -> Engine:
    return create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
        hide_parameters=True,
    )


def _constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _one(conn: Connection, sql: str, **params: Any) -> Row | None:
    row = conn.execute(text(sql), params).mappings().first()
    return dict(row) if row else None


_USER_COLUMNS = "id, name, email, created_at"
_DRIVER_COLUMNS = "id, name, license_number, status, created_at"
_LOAD_COLUMNS = "id, origin, destination, cargo_type, status, created_at, updated_at"
_ASSIGNMENT_COLUMNS = "id, driver_id, load_id, status, assigned_at, completed_at, cancelled_at"


class FleetRepository:
    def __init__(self, engine: Engine, write_event: EventWriter):
        self.engine = engine
        self.write_event = write_event

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- users ------------------------------------------------------------------------------------

    def create_user(self, name: str, email: str, password_hash: str | None) -> Row:
        try:
            with self._tx() as conn:
                return _one(
                    conn,
                    f"INSERT INTO fleet.users (name, email, password_hash) "
                    f"VALUES (:name, :email, :hash) RETURNING {_USER_COLUMNS}",
                    name=name,
                    email=email,
                    hash=password_hash,
                )
        except IntegrityError as exc:
            if _constraint(exc) == "users_email_key":
                raise Conflict("A user with this e-mail already exists.") from None
            raise

    def ensure_user(self, name: str, email: str, password_hash: str) -> bool:
        """Insert the user unless the e-mail exists; True when inserted. Safe when workers race."""
        with self._tx() as conn:
            row = _one(
                conn,
                "INSERT INTO fleet.users (name, email, password_hash) "
                "VALUES (:name, :email, :hash) ON CONFLICT ((lower(email))) DO NOTHING "
                "RETURNING id",
                name=name,
                email=email,
                hash=password_hash,
            )
        return row is not None

    def get_user(self, user_id: UUID) -> Row:
        with self.engine.connect() as conn:
            row = _one(conn, f"SELECT {_USER_COLUMNS} FROM fleet.users WHERE id = :id", id=user_id)
        if row is None:
            raise NotFound(f"No user with id {user_id}.")
        return row

    def credentials(self, email: str) -> Row | None:
        with self.engine.connect() as conn:
            return _one(
                conn, "SELECT id, email, password_hash FROM fleet.users WHERE lower(email) = lower(:email)", email=email
            )

    def update_password_hash(self, user_id: UUID, password_hash: str) -> None:
        with self._tx() as conn:
            conn.execute(
                text("UPDATE fleet.users SET password_hash = :hash WHERE id = :id"),
                {"hash": password_hash, "id": user_id},
            )

    # --- drivers ----------------------------------------------------------------------------------

    def create_driver(self, body: DriverCreate) -> Row:
        try:
            with self._tx() as conn:
                return _one(
                    conn,
                    f"INSERT INTO fleet.drivers (name, license_number, status) "
                    f"VALUES (:name, :license, :status) RETURNING {_DRIVER_COLUMNS}",
                    name=body.name,
                    license=body.license_number,
                    status=str(body.status),
                )
        except IntegrityError as exc:
            if _constraint(exc) == "drivers_license_number_key":
                raise Conflict("A driver with this license number already exists.") from None
            raise

    def get_driver(self, driver_id: UUID) -> Row:
        with self.engine.connect() as conn:
            row = _one(conn, f"SELECT {_DRIVER_COLUMNS} FROM fleet.drivers WHERE id = :id", id=driver_id)
        if row is None:
            raise NotFound(f"No driver with id {driver_id}.")
        return row

    def list_drivers(self, query: DriverListQuery) -> tuple[list[Row], int]:
        return self._page("fleet.drivers", _DRIVER_COLUMNS, "created_at DESC, id", query)

    # --- loads ------------------------------------------------------------------------------------

    def create_load(self, body: LoadCreate) -> Row:
        with self._tx() as conn:
            load = _one(
                conn,
                f"INSERT INTO fleet.loads (origin, destination, cargo_type) "
                f"VALUES (:origin, :destination, :cargo) RETURNING {_LOAD_COLUMNS}",
                origin=body.origin,
                destination=body.destination,
                cargo=body.cargo_type,
            )
            self._load_event(conn, load["id"], "load.created", {"status": load["status"]})
            return load

    def get_load(self, load_id: UUID) -> Row:
        with self.engine.connect() as conn:
            row = _one(conn, f"SELECT {_LOAD_COLUMNS} FROM fleet.loads WHERE id = :id", id=load_id)
        if row is None:
            raise NotFound(f"No load with id {load_id}.")
        return row

    def list_loads(self, query: LoadListQuery) -> tuple[list[Row], int]:
        return self._page("fleet.loads", _LOAD_COLUMNS, "created_at DESC, id DESC", query)

    def _page(
        self, table: str, columns: str, order: str, query: DriverListQuery | LoadListQuery
    ) -> tuple[list[Row], int]:
        """One page of a table, optionally of one status, with the total the filter matches."""
        where = "WHERE status = :status" if query.status else ""
        params = {"status": str(query.status) if query.status else None, "limit": query.limit, "offset": query.offset}
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT {columns} FROM {table} {where} ORDER BY {order} LIMIT :limit OFFSET :offset"), params
            )
            items = [dict(r) for r in rows.mappings()]
            total = conn.execute(text(f"SELECT count(*) FROM {table} {where}"), params).scalar_one()
        return items, total

    def update_load(self, load_id: UUID, body: LoadUpdate) -> Row:
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        with self._tx() as conn:
            load = _one(conn, f"SELECT {_LOAD_COLUMNS} FROM fleet.loads WHERE id = :id FOR UPDATE", id=load_id)
            if load is None:
                raise NotFound(f"No load with id {load_id}.")
            active = _one(
                conn,
                "SELECT id FROM fleet.driver_load_assignments WHERE load_id = :id AND status = 'ASSIGNED'",
                id=load_id,
            )
            rules.check_load_update(load["status"], body.status, active is not None)
            if not changes:
                return load
            params = {k: str(v) for k, v in changes.items()}
            assignments = ", ".join(f"{column} = :{column}" for column in params)
            updated = _one(
                conn,
                f"UPDATE fleet.loads SET {assignments}, updated_at = now() WHERE id = :id RETURNING {_LOAD_COLUMNS}",
                id=load_id,
                **params,
            )
            self._load_event(conn, load_id, "load.updated", {"changes": params, "previousStatus": load["status"]})
            return updated

    # --- assignments ------------------------------------------------------------------------------

    def create_assignment(self, driver_id: UUID, load_id: UUID) -> Row:
        try:
            with self._tx() as conn:
                driver = _one(conn, f"SELECT {_DRIVER_COLUMNS} FROM fleet.drivers WHERE id = :id", id=driver_id)
                if driver is None:
                    raise NotFound(f"No driver with id {driver_id}.")
                load = _one(conn, f"SELECT {_LOAD_COLUMNS} FROM fleet.loads WHERE id = :id", id=load_id)
                if load is None:
                    raise NotFound(f"No load with id {load_id}.")
                # The early check gives the clear message; the unique indexes settle any race.
                rules.check_assignable(driver["status"], load["status"], False, False)
                assignment = _one(
                    conn,
                    f"INSERT INTO fleet.driver_load_assignments (driver_id, load_id) "
                    f"VALUES (:driver, :load) RETURNING {_ASSIGNMENT_COLUMNS}",
                    driver=driver_id,
                    load=load_id,
                )
                # Conditional updates: a concurrent cancel or completion of the load loses to this one
                # or makes it fail, never a silent overwrite.
                load = _one(
                    conn,
                    f"UPDATE fleet.loads SET status = 'ASSIGNED', updated_at = now() "
                    f"WHERE id = :id AND status = 'OPEN' RETURNING {_LOAD_COLUMNS}",
                    id=load_id,
                )
                if load is None:
                    raise Conflict("The load is no longer open.")
                driver = _one(
                    conn,
                    f"UPDATE fleet.drivers SET status = 'ON_LOAD' "
                    f"WHERE id = :id AND status = 'AVAILABLE' RETURNING {_DRIVER_COLUMNS}",
                    id=driver_id,
                )
                if driver is None:
                    raise Conflict("The driver is no longer available.")
                event = rules.assignment_event(
                    AssignmentStatus.ASSIGNED, assignment, driver, load, assignment["assigned_at"]
                )
                self._record(conn, event)
                return {**assignment, "driver": driver, "load": load}
        except IntegrityError as exc:
            conflict = rules.conflict_for_constraint(_constraint(exc))
            if conflict is None:
                raise
            raise conflict from None

    def get_assignment(self, assignment_id: UUID) -> Row:
        with self.engine.connect() as conn:
            assignment = _one(
                conn,
                f"SELECT {_ASSIGNMENT_COLUMNS} FROM fleet.driver_load_assignments WHERE id = :id",
                id=assignment_id,
            )
            if assignment is None:
                raise NotFound(f"No assignment with id {assignment_id}.")
            driver = _one(
                conn, f"SELECT {_DRIVER_COLUMNS} FROM fleet.drivers WHERE id = :id", id=assignment["driver_id"]
            )
            load = _one(conn, f"SELECT {_LOAD_COLUMNS} FROM fleet.loads WHERE id = :id", id=assignment["load_id"])
        return {**assignment, "driver": driver, "load": load}

    def finish_assignment(self, assignment_id: UUID, target: AssignmentStatus) -> Row:
        with self._tx() as conn:
            # Row lock: two concurrent transitions of one assignment run one after the other.
            assignment = _one(
                conn,
                f"SELECT {_ASSIGNMENT_COLUMNS} FROM fleet.driver_load_assignments WHERE id = :id FOR UPDATE",
                id=assignment_id,
            )
            if assignment is None:
                raise NotFound(f"No assignment with id {assignment_id}.")
            rules.check_transition(assignment["status"], target)
            column = "completed_at" if target == AssignmentStatus.COMPLETED else "cancelled_at"
            assignment = _one(
                conn,
                f"UPDATE fleet.driver_load_assignments "
                f"SET status = :status, {column} = now() "
                f"WHERE id = :id RETURNING {_ASSIGNMENT_COLUMNS}",
                id=assignment_id,
                status=str(target),
            )
            load = _one(
                conn,
                f"UPDATE fleet.loads SET status = :status, updated_at = now() WHERE id = :id RETURNING {_LOAD_COLUMNS}",
                id=assignment["load_id"],
                status=str(rules.LOAD_STATUS_AFTER[target]),
            )
            # An inactive driver stays inactive; one on this load is free again.
            driver = _one(
                conn,
                "UPDATE fleet.drivers SET status = CASE WHEN status = 'ON_LOAD' "
                "THEN 'AVAILABLE' ELSE status END "
                f"WHERE id = :id RETURNING {_DRIVER_COLUMNS}",
                id=assignment["driver_id"],
            )
            event = rules.assignment_event(
                target, assignment, driver, load, assignment["completed_at"] or assignment["cancelled_at"]
            )
            self._record(conn, event)
            return {**assignment, "driver": driver, "load": load}

    # --- events -----------------------------------------------------------------------------------

    def _record(self, conn: Connection, event: LoadEventMessage) -> None:
        self._load_event(conn, event.load_id, event.type, event.model_dump(mode="json"))
        self.write_event(conn, event)

    @staticmethod
    def _load_event(conn: Connection, load_id: Any, type_: str, payload: dict[str, Any]) -> None:
        conn.execute(
            text("INSERT INTO fleet.load_events (load_id, type, payload) VALUES (:load, :type, :payload)"),
            {"load": load_id, "type": type_, "payload": Jsonb(payload)},
        )

    def load_events(self, load_id: UUID) -> list[Row]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, type, payload, created_at FROM fleet.load_events "
                    "WHERE load_id = :id ORDER BY created_at, id"
                ),
                {"id": load_id},
            )
            return [dict(r) for r in rows.mappings()]
