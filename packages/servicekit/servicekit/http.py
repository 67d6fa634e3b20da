"""The one way services call HTTP: requests + tenacity.

Retries connection errors, timeouts, 429 and 5xx with exponential backoff and full jitter, honours
``Retry-After`` (seconds or HTTP date, capped), stops after a number of attempts or a total time,
passes the request id on, and counts every attempt per target and outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from .logs import current_request_id
from .metrics import counter, histogram

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_attempts = counter(
    "servicekit_http_client_requests_total", "Outgoing HTTP attempts by target and outcome", ["target", "outcome"]
)
_duration = histogram("servicekit_http_client_request_duration_seconds", "Outgoing HTTP attempt duration", ["target"])


def retry_after_seconds(response: requests.Response | None, cap: float) -> float | None:
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, cap))


class HttpClient:
    def __init__(
        self,
        base_url: str,
        target: str,
        *,
        timeout: float = 5.0,
        max_attempts: int = 4,
        max_total_seconds: float = 20.0,
        backoff_base: float = 0.2,
        backoff_max: float = 5.0,
        token_provider: Callable[[], str] | None = None,
        on_retry: Callable[[RetryCallState], None] | None = None,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.target = target
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_total_seconds = max_total_seconds
        self.token_provider = token_provider
        self.on_retry = on_retry  # called before each retry's wait, e.g. to count retries in a domain metric
        self.session = session or requests.Session()
        self._backoff = wait_random_exponential(multiplier=backoff_base, max=backoff_max)

    def _wait(self, state: RetryCallState) -> float:
        response = None
        if state.outcome is not None and not state.outcome.failed:
            response = state.outcome.result()
        hinted = retry_after_seconds(response, cap=self.max_total_seconds)
        return hinted if hinted is not None else self._backoff(state)

    def _attempt(self, method: str, url: str, **kwargs) -> requests.Response:
        started = time.perf_counter()
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.RequestException:
            _attempts.labels(self.target, "connection_error").inc()
            raise
        finally:
            _duration.labels(self.target).observe(time.perf_counter() - started)
        if response.status_code in RETRY_STATUSES:
            outcome = "retryable_status"
        elif response.status_code >= 400:
            outcome = "client_error"
        else:
            outcome = "success"
        _attempts.labels(self.target, outcome).inc()
        return response

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send with retries; returns the last response (even a 5xx) or raises the last connection error."""
        headers = dict(kwargs.pop("headers", None) or {})
        request_id = current_request_id()
        if request_id:
            headers.setdefault("X-Request-ID", request_id)
        if self.token_provider:
            headers.setdefault("Authorization", f"Bearer {self.token_provider()}")
        kwargs.setdefault("timeout", self.timeout)
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_total_seconds),
            wait=self._wait,
            retry=(
                retry_if_exception_type((requests.ConnectionError, requests.Timeout))
                | retry_if_result(lambda r: r.status_code in RETRY_STATUSES)
            ),
            retry_error_callback=lambda state: state.outcome.result(),
            before_sleep=self.on_retry,
            reraise=True,
        )
        return retrying(self._attempt, method, url, headers=headers, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)
