"""How model failures are classified and how long the server asked us to wait."""

from __future__ import annotations

import email.utils
import time

import httpx2
import openai
import pytest
from gpt_service.adapters.openai_model import failure_reason, is_quota_error, retry_after_seconds

REQUEST = httpx2.Request("POST", "http://model.test/v1/chat/completions")


def status_error(cls, status, headers=None, body=None):
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    return cls("error", response=response, body=body)


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
        ({"retry-after": "-4"}, 0.0),
    ],
)
def test_retry_after_forms(headers, expected):
    assert retry_after_seconds(status_error(openai.RateLimitError, 429, headers)) == expected


def test_retry_after_as_a_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < retry_after_seconds(status_error(openai.RateLimitError, 429, {"retry-after": when})) <= 30


def test_no_response_no_retry_after():
    assert retry_after_seconds(ValueError("x")) is None


def test_quota_is_recognised_by_code_or_type():
    assert is_quota_error(status_error(openai.RateLimitError, 429, body={"code": "insufficient_quota"}))
    assert is_quota_error(status_error(openai.RateLimitError, 429, body={"type": "insufficient_quota"}))
    assert not is_quota_error(status_error(openai.RateLimitError, 429, body={"code": "rate_limit_exceeded"}))
    assert not is_quota_error(ValueError())


@pytest.mark.parametrize(
    "exc, reason",
    [
        (status_error(openai.RateLimitError, 429, body={"code": "insufficient_quota"}), "insufficient_quota"),
        (status_error(openai.RateLimitError, 429), "rate_limited"),
        (status_error(openai.InternalServerError, 502), "upstream_error"),
        (status_error(openai.APIStatusError, 408), "upstream_error"),
        (status_error(openai.AuthenticationError, 401), "auth_error"),
        (status_error(openai.PermissionDeniedError, 403), "auth_error"),
        (status_error(openai.BadRequestError, 400), "bad_request"),
        (openai.APITimeoutError(request=REQUEST), "timeout"),
        (openai.APIConnectionError(request=REQUEST), "connection_error"),
        (openai.ContentFilterFinishReasonError(), "refused"),
        (ValueError("bad json"), "malformed_output"),
    ],
)
def test_failure_reasons(exc, reason):
    assert failure_reason(exc) == reason
