"""The day's lists, the requests and the responses of dispatch-service, as pydantic models (units in field docs)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    StrictBool,
    StrictFloat,
    StringConstraints,
    model_validator,
)

# '#' is reserved for the table's bookkeeping items (claims and runs), so no id of ours may hold one.
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
HazmatClass = Annotated[str, StringConstraints(pattern=r"^[1-9](\.[1-6])?$")]


def _iso_day(value: object) -> object:
    # Only YYYY-MM-DD (or a date object from our own code): pydantic would read "0" as a Unix timestamp.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day as YYYY-MM-DD")
    if not isinstance(value, str | dt.date):
        raise ValueError("a day as YYYY-MM-DD")
    return value


Day = Annotated[dt.date, BeforeValidator(_iso_day)]
# A JSON number, never a string or a boolean that pydantic would otherwise read as one.
Amount = Annotated[StrictFloat, Field(ge=0, le=1_000_000, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rules(Strict):
    """A driver's operational rules. A rule left out is not checked; limits are inclusive."""

    regions: list[Name] | None = Field(None, max_length=1000, description="Regions the driver serves.")
    max_weight: Amount | None = Field(None, description="Heaviest package in kg.")
    temperature_control: StrictBool | None = Field(None, description="Whether the vehicle may carry perishables.")
    hazmat_classes: list[HazmatClass] | None = Field(None, max_length=100, description="Hazmat classes allowed.")
    max_volume: Amount | None = Field(None, description="Largest package in litres.")
    max_distance: Amount | None = Field(None, description="Farthest delivery in km from the centre.")


class Driver(Strict):
    driver_id: Identifier
    rules: Rules = Field(default_factory=lambda: Rules.model_validate({}))


class Package(Strict):
    package_id: Identifier
    weight: Amount = Field(description="kg")
    volume: Amount = Field(description="litres")
    region: Name
    distance: Amount = Field(description="km from the centre")
    perishable: StrictBool = False
    hazmat_class: HazmatClass | None = Field(None, description="null: not dangerous goods")
    destination: Annotated[str, StringConstraints(min_length=1, max_length=500)]


def _duplicates(values: list[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


class Manifest(Strict):
    """One day's lists: every driver and package of the logistics centre for that day."""

    drivers: list[Driver] = Field(min_length=1, max_length=10_000)
    packages: list[Package] = Field(max_length=1_000_000)

    def repeated_ids(self) -> list[dict[str, str]]:
        """Ids that occur more than once in a list: a conflict within the lists, which a schema cannot say."""
        repeated = []
        for field, values in (
            ("drivers.driver_id", [d.driver_id for d in self.drivers]),
            ("packages.package_id", [p.package_id for p in self.packages]),
        ):
            repeated += [
                {"loc": f"body.{field}", "msg": f"{value} repeated", "type": "repeated_id"}
                for value in _duplicates(values)[:20]
            ]
        return repeated


class ManifestStored(BaseModel):
    date: dt.date
    drivers: int
    packages: int
    key: str = Field(description="Where the lists are kept in the logs bucket.")


class AssignRequest(Strict):
    driver_ids: list[Identifier] = Field(min_length=1, max_length=10_000, json_schema_extra={"uniqueItems": True})
    max_per_driver: PositiveInt = Field(le=100_000, description="Most packages one driver gets from this request.")
    date: Day | None = Field(None, description="The day (default: today, UTC).")

    @model_validator(mode="after")
    def _drivers_are_unique(self) -> AssignRequest:
        duplicates = _duplicates(self.driver_ids)
        if duplicates:
            raise ValueError(f"driver_ids repeated: {', '.join(duplicates[:20])}")
        return self


class AssignResponse(BaseModel):
    assignments: dict[str, list[str]]
    unassigned_packages: list[str]
    unassigned_drivers: list[str]


class Status(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    FAILED_TO_DELIVER = "failed_to_deliver"


class UpdateRequest(Strict):
    driver_id: Identifier
    package_id: Identifier
    status: Status


class Assignment(BaseModel):
    """An item of DeliveryAssignments as the API shows it."""

    driver_id: str
    package_id: str
    status: Status
    assignment_date: dt.date
    assigned_at: str = Field(description="ISO 8601, UTC")
    updated_at: str = Field(description="ISO 8601, UTC")
    destination: str
    weight: float = Field(description="kg")
    volume: float = Field(description="litres")
    region: str
    run_id: str = Field(description="The /assign run that made it.")

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Assignment:
        return cls.model_validate({k: (float(v) if k in ("weight", "volume") else v) for k, v in item.items()})


class AssignmentsQuery(Strict):
    driver_id: Identifier | None = None
    date: Day | None = None
    status: Status | None = None
    limit: int = Field(100, ge=1, le=1000)
    # Within gunicorn's 4,094-byte request line; the cursors this service issues are a few hundred bytes.
    cursor: Annotated[str, StringConstraints(max_length=2048, pattern=r"^[A-Za-z0-9_=-]+$")] | None = Field(
        None, description="next_cursor of the previous page."
    )


class AssignmentPage(BaseModel):
    items: list[Assignment]
    next_cursor: str | None = None
