"""The resources of fleet-api as the API shows them (camelCase JSON, like ``{driverId, loadId}``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel


def _no_nul(value: str) -> str:
    # Postgres text cannot hold NUL: refuse it here (422) rather than fail in the driver (500).
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)
CargoType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
LicenseNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), NoNul]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
# A plain shape check; whether the mailbox exists is not this service's business. No control character,
# and the same characters in every regex dialect that reads the pattern (pydantic's, Python's, the
# ECMA-262 of OpenAPI tools), whose ``\s`` differ: C0/C1 controls and U+FEFF are named outright. Nothing is
# stripped first, so what the declared pattern refuses is refused.
_MAILBOX_PART = r"[^@\s\x00-\x1f\x7f-\x9f\uFEFF]+"
Email = Annotated[
    str,
    StringConstraints(to_lower=True, max_length=320, pattern=rf"^{_MAILBOX_PART}@{_MAILBOX_PART}\.{_MAILBOX_PART}$"),
]


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", from_attributes=True)


class DriverStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    ON_LOAD = "ON_LOAD"
    INACTIVE = "INACTIVE"


class LoadStatus(StrEnum):
    OPEN = "OPEN"
    ASSIGNED = "ASSIGNED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class Role(StrEnum):
    """What a person may do with users (see domain/roles.py); drivers, loads and assignments are open to all."""

    ADMIN = "admin"
    USER = "user"


class AssignmentStatus(StrEnum):
    ASSIGNED = "ASSIGNED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


# --- requests -------------------------------------------------------------------------------------


class LoginRequest(ApiModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320), NoNul]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UserCreate(ApiModel):
    name: Text
    email: Email
    # Optional: a user without a password is a record only and cannot log in.
    password: Password | None = None
    role: Role = Role.USER


Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]


class UserUpdate(ApiModel):
    """What an admin may change of a user; a field left out stays as it is. Demotion revokes the user's tokens."""

    name: Text | None = None
    role: Role | None = None


class PasswordChange(ApiModel):
    password: Password


class DriverCreate(ApiModel):
    name: Text
    license_number: LicenseNumber
    status: DriverStatus = DriverStatus.AVAILABLE


class DriverListQuery(ApiModel):
    status: DriverStatus | None = None
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class LoadCreate(ApiModel):
    origin: Text
    destination: Text
    cargo_type: CargoType


class LoadUpdate(ApiModel):
    origin: Text | None = None
    destination: Text | None = None
    cargo_type: CargoType | None = None
    status: LoadStatus | None = None


class LoadListQuery(ApiModel):
    status: LoadStatus | None = None
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class AssignmentCreate(ApiModel):
    driver_id: UUID
    load_id: UUID


class AssignmentStatusUpdate(ApiModel):
    status: AssignmentStatus


# --- responses ------------------------------------------------------------------------------------


class Token(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int


class User(ApiModel):
    id: UUID
    name: str
    email: str
    role: Role
    created_at: datetime


class Driver(ApiModel):
    id: UUID
    name: str
    license_number: str
    status: DriverStatus
    created_at: datetime


class DriverPage(ApiModel):
    items: list[Driver]
    total: int
    limit: int
    offset: int


class Load(ApiModel):
    id: UUID
    origin: str
    destination: str
    cargo_type: str
    status: LoadStatus
    created_at: datetime
    updated_at: datetime


class LoadPage(ApiModel):
    items: list[Load]
    total: int
    limit: int
    offset: int


class Assignment(ApiModel):
    id: UUID
    driver_id: UUID
    load_id: UUID
    status: AssignmentStatus
    assigned_at: datetime
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None


class AssignmentDetail(Assignment):
    driver: Driver
    load: Load
