"""The model, through the official openai SDK with structured outputs (a JSON schema).

Retries are ours (tenacity), and the SDK's are off (``max_retries=0``): the SDK would retry
``insufficient_quota`` like any 429 and would wait up to two minutes on a Retry-After, while a caller
is waiting for this answer. Here quota errors fail at once, 429/5xx/connection errors are retried
a bounded number of times, a Retry-After is honoured only when it fits the remaining deadline, and
each attempt's timeout is cut to what is left of that deadline. The deadline is OPENAI_DEADLINE_SECONDS,
or less when the caller said it waits less (servicekit's ``X-Request-Timeout-Ms``): the summary must be
answered, degraded if need be, before the caller gives up and retries work still under way here.

An attempt that used its whole timeout counts as timed out even when an answer arrived at that very
moment: httpx's read timeout bounds each read, not the attempt, so a model that answers after exactly
OPENAI_TIMEOUT_SECONDS would otherwise pass as a healthy one.
"""

from __future__ import annotations

import email.utils
import logging
import time

import httpx2
import openai
from pydantic import ValidationError
from servicekit.http import request_remaining_seconds
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from ..domain.answers import FallbackReason, ModelAnswer
from ..metrics import MODEL_LATENCY, MODEL_RETRIES, TOKENS
from ..settings import Settings
from .language_model import Completion, ModelUnavailable

log = logging.getLogger(__name__)


def retry_after_seconds(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After-Ms, Retry-After in seconds or as a date)."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            if name == "retry-after":
                try:
                    return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
                except (TypeError, ValueError):
                    return None
    return None


def is_quota_error(exc: BaseException) -> bool:
    if not isinstance(exc, openai.RateLimitError):
        return False
    body = exc.body if isinstance(exc.body, dict) else {}
    return "insufficient_quota" in (exc.code, body.get("type"))


def failure_reason(exc: BaseException) -> FallbackReason:
    if is_quota_error(exc):
        return "insufficient_quota"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection_error"
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return "auth_error"
    if isinstance(exc, openai.APIStatusError):
        return "upstream_error" if exc.status_code >= 500 or exc.status_code in (408, 409) else "bad_request"
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return "refused"
    # Invalid JSON, a schema mismatch, or an answer cut off at the token limit.
    return "malformed_output"


class OpenAIModel:
    def __init__(self, settings: Settings, http_client: httpx2.Client | None = None):
        self.settings = settings
        self.model = settings.openai_model
        backoff = settings.openai_retry_backoff_seconds
        self._backoff = wait_exponential_jitter(multiplier=backoff, max=8 * backoff, jitter=backoff)
        self.client = openai.OpenAI(
            api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
            base_url=settings.openai_base_url,
            max_retries=0,
            timeout=httpx2.Timeout(settings.openai_timeout_seconds, connect=settings.openai_connect_timeout_seconds),
            http_client=http_client,
        )

    def _retryable(self, exc: BaseException) -> bool:
        if is_quota_error(exc) or isinstance(exc, openai.APITimeoutError):
            # A timeout already spent a whole attempt's budget; another one would double the wait.
            return False
        wait = retry_after_seconds(exc)
        if wait is not None and wait > self.settings.openai_retry_after_max_seconds:
            return False
        if isinstance(exc, openai.RateLimitError | openai.InternalServerError | openai.APIConnectionError):
            return True
        return isinstance(exc, openai.APIStatusError) and exc.status_code in (408, 409)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(exc) if exc is not None else None
        if asked is not None:
            return asked
        return self._backoff(state)

    def _count_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        reason = failure_reason(exc) if exc is not None else "unknown"
        MODEL_RETRIES.labels(reason=reason).inc()
        log.warning(
            "model call failed (%s), retry %d",
            reason,
            state.attempt_number,
            extra={"reason": reason, "attempt": state.attempt_number},
        )

    def complete(self, system: str, user: str) -> Completion:
        """One structured answer, or ModelUnavailable with the reason."""
        budget = self.settings.model_budget_seconds(request_remaining_seconds())
        if budget <= 0.05:
            raise ModelUnavailable("timeout", "no time left within the caller's deadline")
        deadline = time.monotonic() + budget
        retrying = Retrying(
            retry=retry_if_exception(self._retryable),
            stop=stop_after_attempt(self.settings.openai_max_retries + 1) | stop_before_delay(budget),
            wait=self._wait,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            completion = retrying(self._attempt, system, user, deadline)
        except (openai.OpenAIError, ValidationError, ValueError) as exc:
            reason = failure_reason(exc)
            raise ModelUnavailable(reason, type(exc).__name__) from exc
        attempts = retrying.statistics.get("attempt_number", 1)
        return Completion(**{**completion.__dict__, "attempts": attempts})

    def _attempt(self, system: str, user: str, deadline: float) -> Completion:
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            raise openai.APITimeoutError(request=httpx2.Request("POST", str(self.client.base_url)))
        read_timeout = min(self.settings.openai_timeout_seconds, remaining)
        timeout = httpx2.Timeout(read_timeout, connect=min(self.settings.openai_connect_timeout_seconds, remaining))
        started = time.perf_counter()
        try:
            result = self.client.chat.completions.parse(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format=ModelAnswer,
                max_completion_tokens=self.settings.openai_max_output_tokens,
                temperature=openai.omit
                if self.settings.openai_temperature is None
                else self.settings.openai_temperature,
                timeout=timeout,
            )
        except Exception as exc:
            MODEL_LATENCY.labels(result=failure_reason(exc)).observe(time.perf_counter() - started)
            raise
        elapsed = time.perf_counter() - started
        if elapsed >= read_timeout or time.monotonic() >= deadline:
            MODEL_LATENCY.labels(result="timeout").observe(elapsed)
            raise openai.APITimeoutError(request=httpx2.Request("POST", str(self.client.base_url)))
        MODEL_LATENCY.labels(result="ok").observe(elapsed)
        usage = result.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        model = result.model or self.model
        TOKENS.labels(kind="prompt", model=model).inc(prompt_tokens)
        TOKENS.labels(kind="completion", model=model).inc(completion_tokens)
        message = result.choices[0].message if result.choices else None
        if message is None or message.refusal:
            raise ModelUnavailable("refused", "the model refused to answer")
        if message.parsed is None:
            raise ModelUnavailable("malformed_output", "no structured content")
        return Completion(
            answer=message.parsed,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            attempts=1,
        )
