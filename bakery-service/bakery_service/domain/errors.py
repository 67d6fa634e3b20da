"""Refusals of the bakery's rules; the HTTP layer turns each into a problem+json answer."""

from __future__ import annotations

from typing import Any


class BakeryError(Exception):
    """``detail`` for people; ``code`` (a stable name of the refusal), ``field`` (the input it concerns, as a
    path of the request body: ``extra_ingredients.eggs``) and ``facts`` for clients that say it in their own
    words (the web page: "Eggs are counted in units, not grams")."""

    status = 400
    title = "Bad Request"

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None, **facts: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.field = field
        self.facts = facts


class NotFound(BakeryError):
    status = 404
    title = "Not Found"


class Conflict(BakeryError):
    status = 409
    title = "Conflict"


class Invalid(BakeryError):
    status = 422
    title = "Validation failed"


class Unauthorized(BakeryError):
    status = 401
    title = "Unauthorized"
