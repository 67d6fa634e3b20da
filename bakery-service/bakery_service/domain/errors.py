"""Refusals of the bakery's rules; the HTTP layer turns each into a problem+json answer."""

from __future__ import annotations


class BakeryError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


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
