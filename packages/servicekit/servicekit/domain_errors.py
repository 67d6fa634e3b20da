"""The one family of domain errors: what a service's rules refuse, in the domain's words, with no HTTP in it.

Use cases and domain code raise these; servicekit translates each kind to problem+json once, at the edge
(``errors.register_error_handlers``), so no service keeps a table of status codes of its own.

``detail`` is a sentence for people. ``code`` names the refusal for clients that say it in their own words
(bakery's web page: "Eggs are counted in units, not grams"), ``field`` the input it concerns (a path of the
request body, ``extra_ingredients.eggs``), ``errors`` lists several such inputs, ``facts`` carry the values a
client needs to explain it, and ``retry_after`` says when the same request may succeed. ``title`` replaces
the kind's title where a flow has always named its refusals in words of its own (bakery's "Sign-in failed").
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal; a kind of its own for each way a caller must react."""

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        retry_after: int | None = None,
        title: str | None = None,
        location: str | None = None,
        **facts: Any,
    ) -> None:
        super().__init__(detail)
        self.title = title
        #: Where the resource the refusal is about lives (a 409's conflicting resource): set by the HTTP layer,
        #: which knows the paths, and answered as ``Location``.
        self.location = location
        self.detail = detail
        self.code = code
        self.field = field
        self.errors = errors
        self.retry_after = retry_after
        self.facts = facts


class Malformed(DomainError):
    """The input cannot be read as what it claims to be."""


class Invalid(DomainError):
    """The input is readable but breaks a rule of the domain."""


class Unauthenticated(DomainError):
    """The caller's credentials are wrong or missing."""


class Forbidden(DomainError):
    """The caller is known and may not do this."""


class NotFound(DomainError):
    """What the request names does not exist (or the caller may not learn that it does)."""


class Conflict(DomainError):
    """The request contradicts the current state; with ``retry_after``, a state expected to pass."""


class TooLarge(DomainError):
    """The request asks for more than a documented budget."""


class TooManyAttempts(DomainError):
    """Refused for the caller's pace; ``retry_after`` says when to try again."""


class Unavailable(DomainError):
    """Something the request needs is unreachable; nothing was changed and the same request may be sent
    again (after ``retry_after``)."""

    def __init__(self, detail: str, *, retry_after: int | None = 5, **kwargs: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **kwargs)


# The edge's one table: each kind's status and title.
STATUS: dict[type[DomainError], tuple[int, str]] = {
    Malformed: (400, "Bad Request"),
    Unauthenticated: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "Not Found"),
    Conflict: (409, "Conflict"),
    TooLarge: (413, "Content Too Large"),
    Invalid: (422, "Validation failed"),
    TooManyAttempts: (429, "Too Many Requests"),
    Unavailable: (503, "Service Unavailable"),
}


def status_of(error: DomainError) -> tuple[int, str]:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return STATUS[Malformed]
