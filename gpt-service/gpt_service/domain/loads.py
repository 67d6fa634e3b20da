"""The request of POST /summarize-loads: the loads.

A request is one load per loadboard posting, validated and normalised; every field but origin and
destination is optional, so any caller's load data can be summarised. A load without ``load_id`` is
referred to by its 1-based position in the request (``#3``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)

MAX_LOADS = 500


CITY_MAX, STATE_MAX = 100, 16


def _place(value: Any) -> Any:
    # automation-service normalises places to city/state; a plain "City, ST" string is accepted too.
    if isinstance(value, dict):
        city, state = value.get("city"), value.get("state")
        if not isinstance(city, str) or not city.strip() or len(city) > CITY_MAX:
            raise ValueError(f"a place needs a city: a string of 1 to {CITY_MAX} characters")
        if state is not None and (not isinstance(state, str) or len(state) > STATE_MAX):
            raise ValueError(f"a state is a string of at most {STATE_MAX} characters")
        city, state = city.strip(), (state or "").strip()
        return f"{city}, {state.upper()}" if state else city
    if isinstance(value, str):
        return " ".join(value.split())
    return value


def _load_id(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # let the str type reject it instead of turning True into "True"
    if isinstance(value, int):
        return str(value)
    return value


_DECIMAL_TEXT = re.compile(r"\+?(\d+(\.\d*)?|\.\d+)")


def _not_bool(value: Any) -> Any:
    # JSON true is not a number, although Python's bool is an int: refused rather than read as 1. A string is
    # an amount only as plain decimal digits, as the document declares (no exponent, sign or spaces).
    if isinstance(value, bool):
        raise ValueError("a number is expected, not a boolean")
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
        raise ValueError('a number, or a string of decimal digits such as "1900.00", is expected')
    return value


def _date_time_text(value: Any) -> Any:
    # The document declares an ISO 8601 string; pydantic would otherwise read a number as a Unix time.
    if isinstance(value, int | float):
        raise ValueError("an ISO 8601 date-time string is expected, not a number")
    return value


# What the document declares is what the validators accept: strings and city/state objects for places,
# numbers and plain decimal strings ("1900.00", as portals print them) for amounts, strings and integers for ids.
_PLACE_SCHEMA = {
    "anyOf": [
        {"type": "string", "minLength": 1, "maxLength": 120, "pattern": r"\S"},
        {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 1, "maxLength": CITY_MAX, "pattern": r"\S"},
                "state": {"anyOf": [{"type": "string", "maxLength": STATE_MAX}, {"type": "null"}]},
            },
            "required": ["city"],
        },
    ]
}


def _amount_schema(*, positive: bool) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "number", "exclusiveMinimum" if positive else "minimum": 0}
    digits = r"^\+?(\d*[1-9]\d*(\.\d*)?|\d*\.\d*[1-9]\d*)$" if positive else r"^\+?(\d+(\.\d*)?|\.\d+)$"
    return {"anyOf": [number, {"type": "string", "pattern": digits}, {"type": "null"}]}


Place = Annotated[str, BeforeValidator(_place), Field(min_length=1, max_length=120), WithJsonSchema(_PLACE_SCHEMA)]
Number = Annotated[float, BeforeValidator(_not_bool)]
LoadId = Annotated[
    str,
    BeforeValidator(_load_id),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 128}, {"type": "integer"}, {"type": "null"}]}
    ),
]
DateTimeText = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]


class Load(BaseModel):
    """One posted load; extra fields a portal shows are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)

    portal: str | None = Field(default=None, min_length=1, max_length=64)
    load_id: LoadId | None = Field(
        default=None, min_length=1, max_length=128, validation_alias=AliasChoices("load_id", "id")
    )
    origin: Place
    destination: Place
    price: Annotated[Number | None, WithJsonSchema(_amount_schema(positive=False))] = Field(
        default=None, ge=0, allow_inf_nan=False
    )
    currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$")
    posted_at: DateTimeText | None = None
    eta: DateTimeText | None = None
    equipment: str | None = Field(default=None, max_length=64)
    weight_lbs: Annotated[Number | None, WithJsonSchema(_amount_schema(positive=False))] = Field(
        default=None, ge=0, allow_inf_nan=False
    )
    miles: Annotated[Number | None, WithJsonSchema(_amount_schema(positive=True))] = Field(
        default=None, gt=0, allow_inf_nan=False
    )
    # 1-based place in the request, set by SummarizeRequest.
    _position: int = PrivateAttr(default=0)

    @model_validator(mode="after")
    def _upper_currency(self) -> Load:
        self.currency = self.currency.upper()
        return self

    @property
    def position(self) -> int:
        return self._position

    @property
    def ref(self) -> str:
        """The load's id, or ``#<position>`` when the caller sent none."""
        return self.load_id if self.load_id is not None else f"#{self._position}"

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the load within a request (and its note in the answer)."""
        return (self.portal or "", self.ref)

    @property
    def lane(self) -> str:
        return f"{self.origin} -> {self.destination}"

    @property
    def rate_per_mile(self) -> float | None:
        if self.price is None or not self.miles:
            return None
        return self.price / self.miles


class SummarizeRequest(BaseModel):
    """A JSON array of loads, or ``{"loads": [...]}``."""

    model_config = ConfigDict(extra="forbid")

    loads: list[Load] = Field(min_length=1, max_length=MAX_LOADS)

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_array(cls, data: Any) -> Any:
        return {"loads": data} if isinstance(data, list) else data

    @model_validator(mode="after")
    def _unique_keys(self) -> SummarizeRequest:
        seen: dict[tuple[str, str], int] = {}
        for index, load in enumerate(self.loads):
            load._position = index + 1
            if load.load_id is None:
                continue  # referred to by its position, unique by construction
            if load.key in seen:
                raise ValueError(
                    f"loads.{index}: duplicate of loads.{seen[load.key]} "
                    f"(portal {load.portal!r}, load_id {load.load_id!r})"
                )
            seen[load.key] = index
        return self
