"""JSON out, and path ids in."""

from __future__ import annotations

from flask import Response
from pydantic import BaseModel
from servicekit.domain_errors import NotFound

MAX_ID = 2**63 - 1  # Postgres bigint


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(by_alias=True), status=status, headers=headers, mimetype="application/json")


def checked_id(raw: str, what: str) -> int:
    """A path id as a positive bigint; anything else (text, a uuid, a number beyond bigint) cannot exist: 404."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not 0 < int(raw) <= MAX_ID:
        raise NotFound(f"No {what} has the id {raw[:40]!r}.")
    return int(raw)
