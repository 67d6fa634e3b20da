"""The query and response models of GET /audit-events (they also feed /openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .audit import camel_keys


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    load_id: UUID | None = Field(None, alias="loadId")
    driver_id: UUID | None = Field(None, alias="driverId")
    type: str | None = Field(None, max_length=100)
    limit: int = Field(100, ge=1, le=1000)


class AuditDocument(BaseModel):
    eventId: str
    requestId: str | None = None
    type: str
    driverId: str
    loadId: str
    payload: dict[str, Any]
    occurredAt: datetime
    recordedAt: datetime
    notifiedAt: datetime | None = None

    @field_validator("payload")
    @classmethod
    def _api_style(cls, payload: dict[str, Any]) -> dict[str, Any]:
        return camel_keys(payload)


class AuditPage(BaseModel):
    items: list[AuditDocument]
    count: int
