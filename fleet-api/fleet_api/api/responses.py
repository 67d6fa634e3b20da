"""JSON out: models by their camelCase aliases, domain refusals as problem+json."""

from __future__ import annotations

from flask import Response
from pydantic import BaseModel
from servicekit import problem_response

from ..domain.errors import DomainError


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(by_alias=True), status=status, headers=headers, mimetype="application/json")


def domain_problem(exc: DomainError) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="trucking-suite"'} if exc.status == 401 else {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return problem_response(exc.status, exc.title, exc.detail, headers=headers)
