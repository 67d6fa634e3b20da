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


class PublishError(JobsError):
    """The provider could not hand the job to its broker (the broker is down or refused it)."""


class ProviderNotConfigured(JobsError):
    """A provider was selected but a setting it needs is missing."""
