"""Request and response bodies of the HTTP API (they also feed /openapi.json); no Flask, no I/O."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field


class PortalProgress(BaseModel):
    state: str
    pages: int | None = None
    rows_seen: int | None = None
    rows_skipped: int | None = None
    loads: int | None = None
    attempts: int | None = None
    duration_seconds: float | None = None
    error: str | None = None
    error_kind: str | None = None
    artifacts: list[str] | None = None


class Run(BaseModel):
    id: UUID
    status: Literal["running", "succeeded", "partial", "failed"]
    trigger: str
    requested_by: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    heartbeat_at: datetime
    portals: dict[str, PortalProgress]
    loads_count: int
    summaries_count: int
    summary: dict[str, Any] | None = Field(None, description="gpt-service's answer for the run (without notes)")
    errors: list[str]


class RunList(BaseModel):
    runs: list[Run]


class RunQuery(BaseModel):
    limit: int = Field(20, ge=1, le=100)
    status: Literal["running", "succeeded", "partial", "failed"] | None = None


class StoredLoad(BaseModel):
    id: UUID
    portal: str
    portal_load_id: str
    origin_city: str
    origin_state: str
    destination_city: str
    destination_state: str
    price: Decimal | None
    currency: str | None
    price_text: str
    posted_at: datetime
    pickup_at: datetime | None
    eta: datetime | None
    equipment: str | None
    weight_lbs: int | None
    miles: int | None
    first_seen_at: datetime
    last_seen_at: datetime
    last_run_id: UUID | None


class LoadList(BaseModel):
    loads: list[StoredLoad]
    total: int
    limit: int
    offset: int


class LoadQuery(BaseModel):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)
    portal: Literal["jbhunt", "landstar"] | None = None
    origin_state: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    destination_state: str | None = Field(None, pattern=r"^[A-Z]{2}$")


class TopInsight(BaseModel):
    load_id: UUID
    portal: str
    portal_load_id: str
    origin: str
    destination: str
    price: Decimal | None
    currency: str | None
    miles: int | None
    rate_per_mile: Decimal | None
    posted_at: datetime
    eta: datetime | None
    score: Decimal
    summary_text: str
    insights: list[str]
    model: str
    degraded: bool


class TopInsights(BaseModel):
    ranking: str
    loads: list[TopInsight]
