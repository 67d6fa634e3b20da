"""JSON out: models by their camelCase aliases."""

from __future__ import annotations

from flask import Response
from pydantic import BaseModel


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(by_alias=True), status=status, headers=headers, mimetype="application/json")
