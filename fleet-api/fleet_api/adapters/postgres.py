# ruff: noqa: S608 - the f-strings splice constant column lists only; every value is a bound parameter
# (bandit's B608 likewise, marked `nosec` where it fires).
"""fleet-api's Postgres access: plain SQL on schema ``fleet``, one repository per table family.

Each repository works on the connection of the unit of work that holds it (adapters/unit_of_work.py), so
every statement of a use case, its history row and its outbox event commit together or not at all. The
repositories decide nothing: which rows to read and write only; the use cases decide what may happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from ..domain.models import DriverListQuery, LoadCreate, LoadListQuery

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


@contextmanager
def _unique_violations() -> Iterator[None]:
    """A write refused by a unique index becomes ``UniqueViolation`` naming the index; anything else passes."""
    try:
        yield
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != _UNIQUE_VIOLATION:
            raise
        diag = getattr(exc.orig, "diag", None)
        raise UniqueViolation(getattr(diag, "constraint_name", None)) from exc


def _one(conn: Connection, sql: str, **params: Any) -> Row | None:
    row = conn.execute(text(sql), params).mappings().first()
    return dict(row) if row else None


def _written(conn: Connection, sql: str, **params: Any) -> Row:
    """The row an INSERT/UPDATE ... RETURNING wrote (it must have written one)."""
    row = _one(conn, sql, **params)
    if row is None:
        raise LookupError("the statement wrote no row")
    return row


def _page(
    conn: Connection, table: str, columns: str, order: str, query: DriverListQuery | LoadListQuery
) -> tuple[list[Row], int]:
    """One page of a table, optionally of one status, with the total the filter matches."""
    where = "WHERE status = :status" if query.status else ""
    params = {"status": str(query.status) if query.status else None, "limit": query.limit, "offset": query.offset}
    page = f"SELECT {columns} FROM {table} {where} ORDER BY {order} LIMIT :limit OFFSET :offset"  # nosec B608
    items = [dict(r) for r in conn.execute(text(page), params).mappings()]
    total: int = conn.execute(text(f"SELECT count(*) FROM {table} {where}"), params).scalar_one()  # nosec B608
    return items, total


_USER_COLUMNS = "id, name, email, role, created_at"
_DRIVER_COLUMNS = "id, name, license_number, status, created_at"
_LOAD_COLUMNS = "id, origin, destination, cargo_type, status, created_at, updated_at"
_ASSIGNMENT_COLUMNS = "id, driver_id, load_id, status, assigned_at, completed_at, cancelled_at"


class UserRepository:
    """``fleet.users``, and the advisory locks the token-version use cases take (usecases/token_versions.py)."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def insert(self, name: str, email: str, password_hash: str | None, role: str) -> Row:
        with _unique_violations():
            return _written(
                self._conn,
                f"INSERT INTO fleet.users (name, email, password_hash, role) "  # nosec B608
                f"VALUES (:name, :email, :hash, :role) RETURNING {_USER_COLUMNS}",
                name=name,
                email=email,
                hash=password_hash,
                role=role,
            )

    def insert_unless_present(self, name: str, email: str, password_hash: str, role: str) -> bool:
        """Insert the user unless the e-mail exists; True when inserted. Safe when workers race."""
        row = _one(
            self._conn,
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
        self._conn.execute(text("UPDATE fleet.users SET role = :role WHERE id = :id"), {"role": role, "id": user_id})

    def get(self, user_id: UUID) -> Row | None:
        return _one(self._conn, f"SELECT {_USER_COLUMNS} FROM fleet.users WHERE id = :id", id=user_id)  # nosec B608

    def credentials(self, email: str) -> Row | None:
        return _one(
            self._conn,
            "SELECT id, email, password_hash, role, token_version FROM fleet.users WHERE lower(email) = lower(:email)",
            email=email,
        )

    def update_password_hash(self, user_id: UUID, old_hash: str, password_hash: str) -> None:
        """The same password hashed again with current parameters; not if the password changed meanwhile."""
        self._conn.execute(
            text("UPDATE fleet.users SET password_hash = :hash WHERE id = :id AND password_hash = :old"),
            {"hash": password_hash, "id": user_id, "old": old_hash},
        )

    def lock_token_versions(self, *, exclusive: bool) -> None:
        """Shared by every change that publishes a version; exclusive for rewriting the whole hash."""
        lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        self._conn.execute(text(f"SELECT {lock}(:key)"), {"key": TOKEN_VERSIONS_LOCK})  # nosec B608

    def lock_admin_changes(self) -> None:
        """Taken by every deletion and demotion, so that two of them cannot both remove the last admin."""
        self._conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMIN_CHANGES_LOCK})

    def token_versions(self) -> dict[str, int]:
        rows = self._conn.execute(text("SELECT id, token_version FROM fleet.users")).all()
        return {str(row.id): int(row.token_version) for row in rows}

    def for_update(self, user_id: UUID, *, share: bool = False) -> Row | None:
        mode = "FOR SHARE" if share else "FOR UPDATE"
        return _one(
            self._conn,
            f"SELECT {_USER_COLUMNS}, password_hash, token_version FROM fleet.users WHERE id = :id {mode}",  # nosec B608
            id=user_id,
        )

    def count_admins(self) -> int:
        count: int = self._conn.execute(text("SELECT count(*) FROM fleet.users WHERE role = 'admin'")).scalar_one()
        return count

    def change(self, user_id: UUID, changes: dict[str, Any]) -> Row:
        """Set the given columns (name, role, password_hash, token_version) of one user."""
        assignments = ", ".join(f"{column} = :{column}" for column in changes)
        return _written(
            self._conn,
            f"UPDATE fleet.users SET {assignments} WHERE id = :id RETURNING {_USER_COLUMNS}",  # nosec B608
            id=user_id,
            **changes,
        )

    def delete(self, user_id: UUID) -> None:
        self._conn.execute(text("DELETE FROM fleet.users WHERE id = :id"), {"id": user_id})


class DriverRepository:
    """``fleet.drivers``."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def insert(self, name: str, license_number: str, status: str) -> Row:
        with _unique_violations():
            return _written(
                self._conn,
                f"INSERT INTO fleet.drivers (name, license_number, status) "  # nosec B608
                f"VALUES (:name, :license, :status) RETURNING {_DRIVER_COLUMNS}",
                name=name,
                license=license_number,
                status=status,
            )

    def get(self, driver_id: UUID) -> Row | None:
        return _one(self._conn, f"SELECT {_DRIVER_COLUMNS} FROM fleet.drivers WHERE id = :id", id=driver_id)  # nosec B608

    def page(self, query: DriverListQuery) -> tuple[list[Row], int]:
        return _page(self._conn, "fleet.drivers", _DRIVER_COLUMNS, "created_at DESC, id", query)

    def set_status(self, driver_id: UUID, status: str, *, only_from: str | None = None) -> Row | None:
        """The driver after the change; None when ``only_from`` is given and the driver is not in it."""
        condition = " AND status = :only_from" if only_from else ""
        return _one(
            self._conn,
            f"UPDATE fleet.drivers SET status = :status WHERE id = :id{condition} RETURNING {_DRIVER_COLUMNS}",  # nosec B608
            id=driver_id,
            status=status,
            only_from=only_from,
        )

    def release(self, driver_id: UUID) -> Row:
        """A driver on a load is available again; any other status (INACTIVE) stays."""
        return _written(
            self._conn,
            "UPDATE fleet.drivers SET status = CASE WHEN status = 'ON_LOAD' "  # nosec B608
            "THEN 'AVAILABLE' ELSE status END "
            f"WHERE id = :id RETURNING {_DRIVER_COLUMNS}",
            id=driver_id,
        )


class LoadRepository:
    """``fleet.loads`` and the loads' history, ``fleet.load_events``."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def insert(self, body: LoadCreate) -> Row:
        return _written(
            self._conn,
            f"INSERT INTO fleet.loads (origin, destination, cargo_type) "  # nosec B608
            f"VALUES (:origin, :destination, :cargo) RETURNING {_LOAD_COLUMNS}",
            origin=body.origin,
            destination=body.destination,
            cargo=body.cargo_type,
        )

    def get(self, load_id: UUID, *, for_update: bool = False) -> Row | None:
        lock = " FOR UPDATE" if for_update else ""
        return _one(self._conn, f"SELECT {_LOAD_COLUMNS} FROM fleet.loads WHERE id = :id{lock}", id=load_id)  # nosec B608

    def page(self, query: LoadListQuery) -> tuple[list[Row], int]:
        return _page(self._conn, "fleet.loads", _LOAD_COLUMNS, "created_at DESC, id DESC", query)

    def update(self, load_id: UUID, changes: dict[str, str]) -> Row:
        assignments = ", ".join(f"{column} = :{column}" for column in changes)
        return _written(
            self._conn,
            f"UPDATE fleet.loads SET {assignments}, updated_at = now() WHERE id = :id RETURNING {_LOAD_COLUMNS}",  # nosec B608
            id=load_id,
            **changes,
        )

    def set_status(self, load_id: UUID, status: str, *, only_from: str | None = None) -> Row | None:
        """The load after the change; None when ``only_from`` is given and the load is not in it."""
        condition = " AND status = :only_from" if only_from else ""
        return _one(
            self._conn,
            f"UPDATE fleet.loads SET status = :status, updated_at = now() "  # nosec B608
            f"WHERE id = :id{condition} RETURNING {_LOAD_COLUMNS}",
            id=load_id,
            status=status,
            only_from=only_from,
        )

    def record_event(self, load_id: UUID, type_: str, payload: dict[str, Any]) -> None:
        self._conn.execute(
            text("INSERT INTO fleet.load_events (load_id, type, payload) VALUES (:load, :type, :payload)"),
            {"load": load_id, "type": type_, "payload": Jsonb(payload)},
        )


class AssignmentRepository:
    """``fleet.driver_load_assignments``; two partial unique indexes keep one active load per driver and per load."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def insert(self, driver_id: UUID, load_id: UUID) -> Row:
        with _unique_violations():
            return _written(
                self._conn,
                f"INSERT INTO fleet.driver_load_assignments (driver_id, load_id) "  # nosec B608
                f"VALUES (:driver, :load) RETURNING {_ASSIGNMENT_COLUMNS}",
                driver=driver_id,
                load=load_id,
            )

    def get(self, assignment_id: UUID, *, for_update: bool = False) -> Row | None:
        lock = " FOR UPDATE" if for_update else ""
        return _one(
            self._conn,
            f"SELECT {_ASSIGNMENT_COLUMNS} FROM fleet.driver_load_assignments WHERE id = :id{lock}",  # nosec B608
            id=assignment_id,
        )

    def has_active_for_load(self, load_id: UUID) -> bool:
        found = _one(
            self._conn,
            "SELECT id FROM fleet.driver_load_assignments WHERE load_id = :id AND status = 'ASSIGNED'",
            id=load_id,
        )
        return found is not None

    def close(self, assignment_id: UUID, status: str, timestamp_column: str) -> Row:
        if timestamp_column not in ("completed_at", "cancelled_at"):
            raise ValueError(f"not a closing timestamp: {timestamp_column}")
        return _written(
            self._conn,
            f"UPDATE fleet.driver_load_assignments SET status = :status, {timestamp_column} = now() "  # nosec B608
            f"WHERE id = :id RETURNING {_ASSIGNMENT_COLUMNS}",
            id=assignment_id,
            status=status,
        )
