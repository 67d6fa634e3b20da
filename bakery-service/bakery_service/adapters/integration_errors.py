"""How an outside integration reports failure to the outbox that drives it (jobs' effect errors)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from jobs.errors import Deferred, EffectError
from pydantic import SecretStr

T = TypeVar("T")


class IntegrationError(EffectError):
    """The action failed. ``retryable`` says whether trying again later can succeed (a 5xx, a timeout)
    or not (a 4xx the same request will always get); ``throttled`` that the vendor is rate limiting (429),
    ``retry_after`` for how long it asked to be left alone."""

    def __init__(
        self, message: str, *, retryable: bool = True, throttled: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message, permanent=not retryable, throttled=throttled, retry_after=retry_after)

    @property
    def retryable(self) -> bool:
        return not self.permanent


class NotConfigured(Deferred):
    """The integration has no credentials: nothing is sent, the action is held until they exist."""

    retryable = True

    def __init__(self, integration: str) -> None:
        super().__init__(f"{integration} is not configured", retry_after=2.0)
        self.integration = integration


def setting(value: T | None, integration: str) -> T:
    """A setting the integration cannot work without; NotConfigured while it is missing."""
    if value is None:
        raise NotConfigured(integration)
    return value


def secret(value: SecretStr | None, integration: str) -> str:
    """A credential's text; NotConfigured while it is missing or blank."""
    text = value.get_secret_value() if value is not None else ""
    if not text:
        raise NotConfigured(integration)
    return text


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` value (seconds or an HTTP date) in seconds; None when absent or unreadable."""
    if not value:
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(text) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None
