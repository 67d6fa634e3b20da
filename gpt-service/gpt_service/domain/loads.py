"""The request of POST /summarize-loads: one load per loadboard posting, validated and normalised."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

MAX_LOADS = 500


def _place(value: Any) -> Any:
    # automation-service normalises places to city/state; a plain "City, ST" string is accepted too.
    if isinstance(value, dict):
        city = str(value.get("city") or "").strip()
        state = str(value.get("state") or "").strip()
        if not city:
            raise ValueError("a place needs a city")
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


Place = Annotated[str, BeforeValidator(_place), Field(min_length=1, max_length=120)]


class Load(BaseModel):
    """One posted load; extra fields a portal shows are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)

    portal: str = Field(min_length=1, max_length=64)
    load_id: Annotated[str, BeforeValidator(_load_id)] = Field(
        min_length=1, max_length=128, validation_alias=AliasChoices("load_id", "id")
    )
    origin: Place
    destination: Place
    price: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$")
    posted_at: AwareDatetime | None = None
    eta: AwareDatetime | None = None
    equipment: str | None = Field(default=None, max_length=64)
    weight_lbs: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    miles: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _upper_currency(self) -> Load:
        self.currency = self.currency.upper()
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.portal, self.load_id)

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
            if load.key in seen:
                raise ValueError(
                    f"loads.{index}: duplicate of loads.{seen[load.key]} "
                    f"(portal {load.portal!r}, load_id {load.load_id!r})"
                )
            seen[load.key] = index
        return self
