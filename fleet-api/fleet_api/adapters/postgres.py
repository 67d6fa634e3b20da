# ruff: noqa: S608 - the f-strings splice constant column lists only; every value is a bound parameter
# (bandit's B608 likewise, marked `nosec` where it fires).
"""fleet-api's Postgres access: plain SQL on schema ``fleet``.

Simple reads and writes run in a short transaction of their own. The statements of a use case that
changes several rows (fleet_api/assignments.py, fleet_api/loads.py) take the connection of the
transaction the use case opens with ``transaction()``, so the change, its history row and its outbox
event commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from ..domain.errors import Conflict, NotFound
from ..domain.models import DriverCreate, DriverListQuery, LoadCreate, LoadListQuery

log = logging.getLogger("fleet_api.postgres")

Row = dict[str, Any]
_UNIQUE_VIOLATION = "23505"  # SQLSTATE unique_violation
# Advisory lock keys of fleet-api (any bigint no other code of the database uses).
TOKEN_VERSIONS_LOCK = 0x666C_6565_7401
ADMIN_CHANGES_LOCK = 0x666C_6565_7402


class UniqueViolation(Exception):
    """A unique constraint or index refused a write; ``constraint`` names it (None when unknown)."""

    def __init__(self, constraint: str | None):
        super().__init__(f"unique violation of {constraint}")
        self.constraint = constraint


def _constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _one(conn: Connection, sql: str, **params: Any) -> Row | None:
    row = conn.execute(text(sql), params).mappings().first()
    return dict(row) if row else None


_USER_COLUMNS = "id, name, email, role, created_at"
_DRIVER_COLUMNS = "id, name, license_number, status, created_at"
_LOAD_COLUMNS = "id, origin, destination, cargo_type, status, created_at, updated_at"
_ASSIGNMENT_COLUMNS = "id, driver_id, load_id, status, assigned_at, completed_at, cancelled_at"


class FleetRepository:
    """SQL only: which rows to read and write. The use cases decide what may happen and in which order."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for a use case's several statements; a unique violation names its index."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) != _UNIQUE_VIOLATION:
                raise
            raise UniqueViolation(_constraint(exc)) from exc

    # --- users ------------------------------------------------------------------------------------

    def create_user(self, name: str, email: str, password_hash: str | None, role: str) -> Row:
        try:
            with self._tx() as conn:
                return _one(
                    conn,
                    f"INSERT INTO fleet.users (name, email, password_hash, role) "  # nosec B608
                    f"VALUES (:name, :email, :hash, :role) RETURNING {_USER_COLUMNS}",
                    name=name,
                    email=email,
                    hash=password_hash,
                    role=role,
                )
        except IntegrityError as exc:
            if _constraint(exc) == "users_email_key":
                raise Conflict("A user with this e-mail already exists.") from None
            raise

    def ensure_user(self, name: str, email: str, password_hash: str, role: str) -> bool:
        """Insert the user unless the e-mail exists; True when inserted. Safe when workers race."""
        with self._tx() as conn:
            row = _one(
                conn,
                "INSERT INTO fleet.users (name, email, password_hash, role) "
                "VALUES (:name, :email, :hash, :role) ON CONFLICT ((lower(email))) DO NOTHING "
                "RETURNING id",
                name=name,
                email=email,
                hash=password_hash,
                role=role,
            )
        return row is not None

    def set_role(self, user_id: UUID, role: str) -> None:
        with self._tx() as conn:
            conn.execute(text("UPDATE fleet.users SET role = :role WHERE id = :id"), {"role": role, "id": user_id})

    def get_user(self, user_id: UUID) -> Row:
        with self.engine.connect() as conn:
            row = _one(conn, f"SELECT {_USER_COLUMNS} FROM fleet.users WHERE id = :id", id=user_id)  # nosec B608
        if row is None:
            raise NotFound(f"No user with id {user_id}.")
        return row

    def credentials(self, email: str) -> Row | None:
        with self.engine.connect() as conn:
            return _one(
                conn,
                "SELECT id, email, password_hash, role, token_version FROM fleet.users "
                "WHERE lower(email) = lower(:email)",
                email=email,
            )

    # --- token versions (fleet_api/token_versions.py says who takes which lock, and why) -------------

    @staticmethod
    def lock_token_versions(conn: Connection, *, exclusive: bool) -> None:
        """Shared by every change that publishes a version; exclusive for rewriting the whole hash."""
        lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        conn.execute(text(f"SELECT {lock}(:key)"), {"key": TOKEN_VERSIONS_LOCK})  # nosec B608

    @staticmethod
    def lock_admin_changes(conn: Connection) -> None:
        """Taken by every deletion and demotion, so that two of them cannot both remove the last admin."""
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMIN_CHANGES_LOCK})

    @staticmethod
    def token_versions(conn: Connection) -> dict[str, int]:
        rows = conn.execute(text("SELECT id, token_version FROM fleet.users"))
        return {str(user_id): version for user_id, version in rows}

    @staticmethod
    def user_for_update(conn: Connection, user_id: UUID, *, share: bool = False) -> Row | None:
        mode = "FOR SHARE" if share else "FOR UPDATE"
        return _one(
            conn,
            f"SELECT {_USER_COLUMNS}, password_hash, token_version FROM fleet.users WHERE id = :id {mode}",  # nosec B608
            id=user_id,
        )

    @staticmethod
    def count_admins(conn: Connection) -> int:
        return conn.execute(text("SELECT count(*) FROM fleet.users WHERE role = 'admin'")).scalar_one()

    @staticmethod
    def change_user(conn: Connection, user_id: UUID, changes: dict[str, Any]) -> Row:
        """Set the given columns (name, role, password_hash, token_version) of one user."""
        assignments = ", ".join(f"{column} = :{column}" for column in changes)
        return _one(
            conn,
            f"UPDATE fleet.users SET {assignments} WHERE id = :id RETURNING {_USER_COLUMNS}",  # nosec B608
            id=user_id,
            **changes,
        )

    @staticmethod
    def delete_user(conn: Connection, user_id: UUID) -> None:
        conn.execute(text("DELETE FROM fleet.users WHERE id = :id"), {"id": user_id})

    def update_password_hash(self, user_id: UUID, old_hash: str, password_hash: str) -> None:
        """The same password hashed again with current parameters; not if the password changed meanwhile."""
        with self._tx() as conn:
            conn.execute(
                text("UPDATE fleet.users SET password_hash = :hash WHERE id = :id AND password_hash = :old"),
                {"hash": password_hash, "id": user_id, "old": old_hash},
            )

    # --- drivers ----------------------------------------------------------------------------------

    def create_driver(self, body: DriverCreate) -> Row:
        try:
            with self._tx() as conn:
                return _one(
                    conn,
                    f"INSERT INTO fleet.drivers (name, license_number, status) "  # nosec B608
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
            row = _one(conn, f"SELECT {_DRIVER_COLUMNS} FROM fleet.drivers WHERE id = :id", id=driver_id)  # nosec B608
        if row is None:
            raise NotFound(f"No driver with id {driver_id}.")
        return row

    def list_drivers(self, query: DriverListQuery) -> tuple[list[Row], int]:
        return self._page("fleet.drivers", _DRIVER_COLUMNS, "created_at DESC, id", query)

    # --- loads ------------------------------------------------------------------------------------

    def insert_load(self, conn: Connection, body: LoadCreate) -> Row:
        return _one(
            conn,
            f"INSERT INTO fleet.loads (origin, destination, cargo_type) "  # nosec B608
            f"VALUES (:origin, :destination, :cargo) RETURNING {_LOAD_COLUMNS}",
            origin=body.origin,
            destination=body.destination,
            cargo=body.cargo_type,
        )

    def get_load(self, load_id: UUID) -> Row:
        with self.engine.connect() as conn:
            row = _one(conn, f"SELECT {_LOAD_COLUMNS} FROM fleet.loads WHERE id = :id", id=load_id)  # nosec B608
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
        page = f"SELECT {columns} FROM {table} {where} ORDER BY {order} LIMIT :limit OFFSET :offset"  # nosec B608
        with self.engine.connect() as conn:
            rows = conn.execute(text(page), params)
            items = [dict(r) for r in rows.mappings()]
            total = conn.execute(text(f"SELECT count(*) FROM {table} {where}"), params).scalar_one()  # nosec B608
        return items, total

    def has_active_assignment(self, conn: Connection, load_id: UUID) -> bool:
        return (
            _one(
                conn,
                "SELECT id FROM fleet.driver_load_assignments WHERE load_id = :id AND status = 'ASSIGNED'",
                id=load_id,
            )
            is not None
        )

    def update_load(self, conn: Connection, load_id: UUID, changes: dict[str, str]) -> Row:
        assignments = ", ".join(f"{column} = :{column}" for column in changes)
        return _one(
            conn,
            f"UPDATE fleet.loads SET {assignments}, updated_at = now() WHERE id = :id RETURNING {_LOAD_COLUMNS}",  # nosec B608
            id=load_id,
            **changes,
        )

    def set_load_status(
        self, conn: Connection, load_id: UUID, status: str, *, only_from: str | None = None
    ) -> Row | None:
        """The load after the change; None when ``only_from`` is given and the load is not in it."""
        condition = " AND status = :only_from" if only_from else ""
        return _one(
            conn,
            f"UPDATE fleet.loads SET status = :status, updated_at = now() "  # nosec B608
            f"WHERE id = :id{condition} RETURNING {_LOAD_COLUMNS}",
            id=load_id,
            status=status,
            only_from=only_from,
        )

    # --- drivers in a transaction ------------------------------------------------------------------

    def driver(self, conn: Connection, driver_id: UUID) -> Row | None:
        return _one(conn, f"SELECT {_DRIVER_COLUMNS} FROM fleet.drivers WHERE id = :id", id=driver_id)  # nosec B608

    def load(self, conn: Connection, load_id: UUID, *, for_update: bool = False) -> Row | None:
        lock = " FOR UPDATE" if for_update else ""
        return _one(conn, f"SELECT {_LOAD_COLUMNS} FROM fleet.loads WHERE id = :id{lock}", id=load_id)  # nosec B608

    def set_driver_status(
        self, conn: Connection, driver_id: UUID, status: str, *, only_from: str | None = None
    ) -> Row | None:
        """The driver after the change; None when ``only_from`` is given and the driver is not in it."""
        condition = " AND status = :only_from" if only_from else ""
        return _one(
            conn,
            f"UPDATE fleet.drivers SET status = :status WHERE id = :id{condition} RETURNING {_DRIVER_COLUMNS}",  # nosec B608
            id=driver_id,
            status=status,
            only_from=only_from,
        )

    def release_driver(self, conn: Connection, driver_id: UUID) -> Row:
        """A driver on a load is available again; any other status (INACTIVE) stays."""
        return _one(
            conn,
            "UPDATE fleet.drivers SET status = CASE WHEN status = 'ON_LOAD' "  # nosec B608
            "THEN 'AVAILABLE' ELSE status END "
            f"WHERE id = :id RETURNING {_DRIVER_COLUMNS}",
            id=driver_id,
        )

    # --- assignments ------------------------------------------------------------------------------

    def insert_assignment(self, conn: Connection, driver_id: UUID, load_id: UUID) -> Row:
        return _one(
            conn,
            f"INSERT INTO fleet.driver_load_assignments (driver_id, load_id) "  # nosec B608
            f"VALUES (:driver, :load) RETURNING {_ASSIGNMENT_COLUMNS}",
            driver=driver_id,
            load=load_id,
        )

    def assignment(self, conn: Connection, assignment_id: UUID, *, for_update: bool = False) -> Row | None:
        lock = " FOR UPDATE" if for_update else ""
        return _one(
            conn,
            f"SELECT {_ASSIGNMENT_COLUMNS} FROM fleet.driver_load_assignments WHERE id = :id{lock}",  # nosec B608
            id=assignment_id,
        )

    def close_assignment(self, conn: Connection, assignment_id: UUID, status: str, timestamp_column: str) -> Row:
        if timestamp_column not in ("completed_at", "cancelled_at"):
            raise ValueError(f"not a closing timestamp: {timestamp_column}")
        return _one(
            conn,
            f"UPDATE fleet.driver_load_assignments SET status = :status, {timestamp_column} = now() "  # nosec B608
            f"WHERE id = :id RETURNING {_ASSIGNMENT_COLUMNS}",
            id=assignment_id,
            status=status,
        )

    def get_assignment(self, assignment_id: UUID) -> Row:
        with self.engine.connect() as conn:
            assignment = self.assignment(conn, assignment_id)
            if assignment is None:
                raise NotFound(f"No assignment with id {assignment_id}.")
            driver = self.driver(conn, assignment["driver_id"])
            load = self.load(conn, assignment["load_id"])
        return {**assignment, "driver": driver, "load": load}

    # --- load history -----------------------------------------------------------------------------

    @staticmethod
    def record_load_event(conn: Connection, load_id: Any, type_: str, payload: dict[str, Any]) -> None:
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
