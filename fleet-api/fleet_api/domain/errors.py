"""What the domain refuses; the HTTP layer turns each into a problem+json status."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status = 404
    title = "Not Found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"

    # Which rule refused: a bounded label of fleet_rule_conflicts_total.
    RULES = ("driver_busy", "driver_inactive", "load_taken", "load_not_open", "transition")

    def __init__(self, detail: str, rule: str = "transition"):
        super().__init__(detail)
        self.rule = rule


class InvalidCredentials(DomainError):
    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Unavailable(DomainError):
    """Something the change needs is unreachable; nothing was changed, the same request may be sent again."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, detail: str, retry_after: int = 5):
        super().__init__(detail)
        self.retry_after = retry_after


class TooManyAttempts(DomainError):
    """Login refused without looking at the password: too many recent failures (see login_throttle)."""

    status = 429
    title = "Too Many Requests"

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after
