"""Errors the application sees from the jobs facade."""

from __future__ import annotations

from typing import Any


class JobsError(Exception):
    """Base class of every error raised by the jobs package."""


class UnknownJobType(JobsError, LookupError):
    def __init__(self, job_type: str):
        super().__init__(f"no handler is registered for job type {job_type!r}")
        self.job_type = job_type


class InvalidPayload(JobsError, ValueError):
    """The payload does not match the handler's model; nothing was sent."""

    def __init__(self, job_type: str, errors: list[dict[str, Any]]):
        super().__init__(f"invalid payload for job type {job_type!r}: {errors}")
        self.job_type = job_type
        self.errors = errors


class PermanentJobError(JobsError):
    """Raised by a handler when retrying cannot help: the job goes straight to the dead-letter path."""


class EffectError(JobsError):
    """An outside effect failed: a publish to a broker, a call to a vendor's API.

    What the outbox does with the row depends on the answer:

    - ``permanent``: the same request will always get the same answer (a 400, a 422, an unknown account):
      the row goes to the dead letter at once;
    - ``throttled``: the other side is rate limiting (a 429): nothing is wrong with the row; it waits
      ``retry_after`` seconds, the attempt is not counted, and its channel pauses as long;
    - otherwise (a 5xx, a timeout, a refused connection): the attempt counts, and the row is tried again
      after its own backoff, never sooner than ``retry_after`` when the other side sent one.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, throttled: bool = False, retry_after: float | None = None
    ):
        super().__init__(message)
        self.permanent = permanent
        self.throttled = throttled
        self.retry_after = retry_after


class Deferred(EffectError):
    """Not a failure: the row cannot be settled yet (e.g. a lookup must wait for a search index to catch
    up before it can say an earlier attempt did not act). Tried again after ``retry_after``, uncounted."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message, retry_after=retry_after)


class PublishError(EffectError):
    """The provider could not hand the job to its broker (the broker is down or refused it)."""


class ProviderNotConfigured(JobsError):
    """A provider was selected but a setting it needs is missing."""


class Unsupported(JobsError, NotImplementedError):
    """The provider lacks an optional capability of the interface (per-job state, cancelling, reading its dead
    letter back, consuming by pulling, being built from settings): the caller's request, not unfinished code."""
