"""The one way services call HTTP: requests + tenacity.

Retries connection errors, timeouts, 429 and 5xx with exponential backoff and full jitter, honours
``Retry-After`` (seconds or HTTP date, capped), stops after a number of attempts or a total time,
passes the request id on, and counts every attempt per target and outcome.

Time budgets travel with the call. Each attempt carries ``X-Request-Timeout-Ms``: how long this client
will wait for that attempt's answer. A service receiving it (``request_remaining_seconds()``) caps its
own work to it, and when it calls further services its HttpClient cuts their timeouts to what is left
of it, so a budget shrinks down a call chain instead of each hop waiting longer than its caller will.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from flask import g, has_request_context
from flask import request as current_request
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from .logs import current_request_id
from .metrics import counter, histogram

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEADLINE_HEADER = "X-Request-Timeout-Ms"
# Below this there is no point in trying: the answer could not arrive in time.
MIN_ATTEMPT_SECONDS = 0.05

_attempts = counter(
    "servicekit_http_client_requests_total", "Outgoing HTTP attempts by target and outcome", ["target", "outcome"]
)
_duration = histogram("servicekit_http_client_request_duration_seconds", "Outgoing HTTP attempt duration", ["target"])
OUTCOMES = ("success", "client_error", "retryable_status", "connection_error", "deadline")


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


def request_remaining_seconds() -> float | None:
    """Seconds the caller of the request being served will still wait for its answer, counted from the
    request's arrival (its ``X-Request-Timeout-Ms``); None outside a request or without the header."""
    if not has_request_context():
        return None
    deadline: float | None = g.get("_servicekit_deadline")
    if deadline is None:
        deadline = math.inf
        raw = current_request.headers.get(DEADLINE_HEADER, "")
        if raw.isdigit() and int(raw) > 0:
            deadline = (g.get("started") or time.perf_counter()) + int(raw) / 1000
        g._servicekit_deadline = deadline
    if deadline == math.inf:
        return None
    return max(0.0, deadline - time.perf_counter())


def _last_response(state: RetryCallState) -> requests.Response:
    """Retries exhausted on a retryable status: the caller gets that last response, not an error."""
    assert state.outcome is not None  # tenacity gives up only after an attempt
    response: requests.Response = state.outcome.result()
    return response


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
        # The target's series at zero from the start, so that increase() counts its first call too.
        for outcome in OUTCOMES:
            _attempts.labels(target, outcome)
        _duration.labels(target)

    def _wait(self, state: RetryCallState) -> float:
        response = None
        if state.outcome is not None and not state.outcome.failed:
            response = state.outcome.result()
        hinted = retry_after_seconds(response, cap=self.max_total_seconds)
        return hinted if hinted is not None else self._backoff(state)

    def _attempt(self, method: str, url: str, deadline: float, **kwargs: Any) -> requests.Response:
        remaining = deadline - time.perf_counter()
        if remaining < MIN_ATTEMPT_SECONDS:
            _attempts.labels(self.target, "deadline").inc()
            raise requests.Timeout(f"no time left for a call to {self.target}")
        timeout = kwargs.pop("timeout", None) or self.timeout
        timeout = min(timeout, remaining)
        headers = {**kwargs.pop("headers", {}), DEADLINE_HEADER: str(max(1, int(timeout * 1000)))}
        started = time.perf_counter()
        try:
            response = self.session.request(method, url, headers=headers, timeout=timeout, **kwargs)
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

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send with retries; returns the last response (even a 5xx) or raises the last connection error."""
        headers = dict(kwargs.pop("headers", None) or {})
        request_id = current_request_id()
        if request_id:
            headers.setdefault("X-Request-ID", request_id)
        if self.token_provider:
            headers.setdefault("Authorization", f"Bearer {self.token_provider()}")
        # The whole call fits in max_total_seconds and in what the caller of the current request still waits.
        budget = self.max_total_seconds
        upstream = request_remaining_seconds()
        if upstream is not None:
            budget = min(budget, upstream)
        deadline = time.perf_counter() + budget
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(budget),
            wait=self._wait,
            retry=(
                retry_if_exception_type((requests.ConnectionError, requests.Timeout))
                | retry_if_result(lambda r: r.status_code in RETRY_STATUSES)
            ),
            retry_error_callback=_last_response,
            before_sleep=self.on_retry,
            reraise=True,
        )
        return retrying(self._attempt, method, url, deadline, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)
