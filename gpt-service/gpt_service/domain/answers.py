"""The answer of POST /summarize-loads, and the schema the model must answer in."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .facts import Facts

MAX_INSIGHTS = 8
MAX_TRENDS = 6
MAX_ROUTES = 5

Direction = Literal["up", "down", "flat", "unknown"]
FallbackReason = Literal[
    "no_api_key",
    "insufficient_quota",
    "rate_limited",
    "upstream_error",
    "timeout",
    "connection_error",
    "malformed_output",
    "refused",
    "auth_error",
    "bad_request",
]


class PriceTrend(BaseModel):
    lane: str | None = Field(description="'Origin, ST -> Destination, ST', or null for all loads")
    direction: Direction
    change_pct: float | None = Field(description="change of the later postings against the earlier, in %")
    detail: str


class RouteSuggestion(BaseModel):
    lane: str
    reason: str
    rate_per_mile: float | None


class ModelNote(BaseModel):
    """A note as the model writes it: the load named by portal and load_id as listed in the prompt."""

    portal: str
    load_id: str
    score: float = Field(ge=0, le=1, description="0..1, higher = more attractive to the carrier")
    note: str


class LoadNote(BaseModel):
    portal: str | None = Field(description="as sent, null when the load had none")
    load_id: str | None = Field(description="as sent, null when the load had none")
    position: int = Field(ge=1, description="1-based place of the load in the request")
    score: float = Field(ge=0, le=1, description="0..1, higher = more attractive to the carrier")
    note: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.portal or "", self.load_id if self.load_id is not None else f"#{self.position}")


class ModelAnswer(BaseModel):
    """The JSON schema the model must answer in (structured outputs); anything else is rejected."""

    summary: str
    insights: list[str] = Field(min_length=1, max_length=MAX_INSIGHTS)
    price_trends: list[PriceTrend] = Field(max_length=MAX_TRENDS)
    route_suggestions: list[RouteSuggestion] = Field(max_length=MAX_ROUTES)
    notes: list[ModelNote]


class SummaryResponse(BaseModel):
    summary: str
    insights: list[str]
    price_trends: list[PriceTrend]
    route_suggestions: list[RouteSuggestion]
    notes: list[LoadNote] = Field(description="one per input load, in input order")
    model: str = Field(description="the model that wrote the text, or 'deterministic' when degraded")
    degraded: bool = Field(description="true when the answer did not come from the model")
    reason: FallbackReason | None = Field(default=None, description="why the answer is degraded")
    cached: bool = False
    facts: Facts
