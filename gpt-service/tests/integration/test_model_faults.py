"""POST /summarize-loads through the real openai SDK against a fake OpenAI server over HTTP."""

from __future__ import annotations

import json
import time

import pytest
from prometheus_client import REGISTRY
from testkit.servers import free_port

pytestmark = pytest.mark.integration


def _post(client, loads, headers):
    response = client.post("/summarize-loads", json=loads, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_model_answer_is_returned_with_notes_for_every_load(fake_openai, settings_for, client_for, auth, loads):
    before = _sample("gpt_tokens_total", kind="prompt", model=fake_openai.MODEL)
    body = _post(client_for(settings_for()), loads, auth)

    assert body["degraded"] is False and body["reason"] is None and body["cached"] is False
    assert body["model"] == fake_openai.MODEL
    assert body["summary"] == "Dry van rates are firm on the Texas lanes."
    assert [n["load_id"] for n in body["notes"]] == [load["load_id"] for load in loads]
    assert all(n["note"].startswith("model note on") and n["score"] == 0.9 for n in body["notes"])
    assert _sample("gpt_tokens_total", kind="prompt", model=fake_openai.MODEL) == before + 1200

    sent = fake_openai.seen[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    schema = sent.body["response_format"]
    assert schema["type"] == "json_schema" and schema["json_schema"]["strict"] is True
    assert set(schema["json_schema"]["schema"]["required"]) == {
        "summary",
        "insights",
        "price_trends",
        "route_suggestions",
        "notes",
    }
    assert sent.body["temperature"] == 0.2 and sent.body["max_completion_tokens"] == 1800
    user = sent.body["messages"][1]["content"]
    assert "FACTS" in user and "Rate per mile:" in user and "L1000" in user


def test_429_with_retry_after_is_waited_for_then_answered(fake_openai, settings_for, client_for, auth, loads):
    limited = fake_openai.error("rate_limit_exceeded", "requests")
    fake_openai.then(fake_openai.Reply(429, limited, {"Retry-After": "1"}))
    started = time.monotonic()
    body = _post(client_for(settings_for()), loads, auth)

    assert body["degraded"] is False
    assert len(fake_openai.seen) == 2
    assert fake_openai.seen[1].at - fake_openai.seen[0].at >= 0.95
    assert time.monotonic() - started < 5


def test_429_beyond_the_retry_budget_falls_back(fake_openai, settings_for, client_for, auth, loads):
    fake_openai.then(
        *[
            fake_openai.Reply(429, fake_openai.error("rate_limit_exceeded", "requests"), {"Retry-After-Ms": "50"})
            for _ in range(3)
        ]
    )
    body = _post(client_for(settings_for(openai_max_retries=2)), loads, auth)

    assert body["degraded"] is True and body["reason"] == "rate_limited"
    assert body["model"] == "deterministic"
    assert len(fake_openai.seen) == 3  # the first attempt and two retries, no more


def test_a_retry_after_longer_than_allowed_is_not_waited_for(fake_openai, settings_for, client_for, auth, loads):
    limited = fake_openai.error("rate_limit_exceeded", "tokens")
    fake_openai.then(fake_openai.Reply(429, limited, {"Retry-After": "30"}))
    started = time.monotonic()
    body = _post(client_for(settings_for()), loads, auth)

    assert body["reason"] == "rate_limited"
    assert len(fake_openai.seen) == 1
    assert time.monotonic() - started < 2


def test_insufficient_quota_is_not_retried_and_pauses_the_model(fake_openai, settings_for, client_for, auth, loads):
    fake_openai.then(
        fake_openai.Reply(
            429, fake_openai.error("insufficient_quota", "insufficient_quota", "You exceeded your current quota")
        )
    )
    before = _sample("gpt_fallbacks_total", reason="insufficient_quota")
    client = client_for(settings_for())
    first = _post(client, loads, auth)
    second = _post(client, loads[:10], auth)

    assert first["degraded"] and first["reason"] == "insufficient_quota"
    assert second["reason"] == "insufficient_quota"
    assert len(fake_openai.seen) == 1  # no retry, and no call during the cool-down
    assert _sample("gpt_fallbacks_total", reason="insufficient_quota") == before + 2


def test_500_is_retried_and_can_recover(fake_openai, settings_for, client_for, auth, loads):
    fake_openai.then(fake_openai.Reply(500, fake_openai.error(None, "server_error")))
    body = _post(client_for(settings_for()), loads, auth)

    assert body["degraded"] is False
    assert len(fake_openai.seen) == 2


def test_persistent_5xx_falls_back(fake_openai, settings_for, client_for, auth, loads):
    fake_openai.then(*[fake_openai.Reply(503, "upstream overloaded") for _ in range(2)])
    body = _post(client_for(settings_for(openai_max_retries=1)), loads, auth)

    assert body["degraded"] is True and body["reason"] == "upstream_error"
    assert len(fake_openai.seen) == 2
    # The fallback is made of the same facts: every load is scored, the summary counts them.
    assert len(body["notes"]) == len(loads)
    assert body["summary"].startswith("40 loads from 2 portal(s)")


def test_timeout_is_bounded_and_falls_back(fake_openai, settings_for, client_for, auth, loads):
    fake_openai.then(fake_openai.Reply(delay=2.0))
    started = time.monotonic()
    body = _post(client_for(settings_for(openai_timeout_seconds=0.4)), loads, auth)

    assert body["degraded"] is True and body["reason"] == "timeout"
    assert time.monotonic() - started < 1.5
    assert len(fake_openai.seen) == 1


@pytest.mark.parametrize(
    "content",
    [
        "this is not JSON",
        {"summary": "ok", "insights": ["x"], "price_trends": [], "route_suggestions": []},  # notes missing
        {
            "summary": "ok",
            "insights": ["x"],
            "price_trends": [],
            "route_suggestions": [],
            "notes": [{"portal": "jbhunt", "load_id": "L1001", "score": 7, "note": "off the scale"}],
        },
        {"summary": " ", "insights": [" "], "price_trends": [], "route_suggestions": [], "notes": []},
    ],
    ids=["not-json", "missing-field", "score-out-of-range", "empty-summary"],
)
def test_an_answer_outside_the_schema_is_rejected(fake_openai, settings_for, client_for, auth, loads, content):
    fake_openai.then(fake_openai.Reply(content=content))
    body = _post(client_for(settings_for()), loads, auth)

    assert body["degraded"] is True and body["reason"] == "malformed_output"
    assert len(fake_openai.seen) == 1


def test_a_refusal_falls_back(fake_openai, settings_for, client_for, auth, loads):
    answer = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": fake_openai.MODEL,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {"role": "assistant", "content": None, "refusal": "I can't help."},
            }
        ],
    }
    fake_openai.then(fake_openai.Reply(body=answer))
    body = _post(client_for(settings_for()), loads, auth)
    assert body["reason"] == "refused"


def test_a_rejected_key_falls_back_without_retrying(fake_openai, settings_for, client_for, auth, loads):
    fake_openai.then(fake_openai.Reply(401, fake_openai.error("invalid_api_key", "invalid_request_error")))
    body = _post(client_for(settings_for()), loads, auth)
    assert body["reason"] == "auth_error"
    assert len(fake_openai.seen) == 1


def test_an_unreachable_server_falls_back(settings_for, client_for, auth, loads):
    settings = settings_for(openai_base_url=f"http://127.0.0.1:{free_port()}/v1", openai_max_retries=1)
    body = _post(client_for(settings), loads, auth)
    assert body["reason"] == "connection_error"


def test_without_a_key_the_model_is_never_called(fake_openai, settings_for, client_for, auth, loads):
    body = _post(client_for(settings_for(openai_api_key=None)), loads, auth)
    assert body["degraded"] is True and body["reason"] == "no_api_key"
    assert fake_openai.seen == []


def test_identical_payloads_are_answered_from_the_cache(fake_openai, settings_for, client_for, auth, loads):
    client = client_for(settings_for())
    first = _post(client, loads, auth)
    again = _post(client, loads, auth)
    reordered = _post(client, list(reversed(loads)), auth)
    changed = _post(client, [{**loads[0], "price": 1.0}, *loads[1:]], auth)

    assert len(fake_openai.seen) == 2  # the first and the changed payload
    assert first["cached"] is False and again["cached"] is True and changed["cached"] is False
    assert again == {**first, "cached": True}
    assert [n["load_id"] for n in reordered["notes"]] == [load["load_id"] for load in reversed(loads)]


def test_degraded_answers_are_not_cached(fake_openai, settings_for, client_for, auth, loads):
    fake_openai.then(fake_openai.Reply(500, "boom"), fake_openai.Reply(500, "boom"))
    client = client_for(settings_for(openai_max_retries=1))
    assert _post(client, loads, auth)["degraded"] is True
    assert _post(client, loads, auth)["degraded"] is False
    assert len(fake_openai.seen) == 3


def test_metrics_count_outcomes_and_latency(fake_openai, settings_for, client_for, auth, loads):
    client = client_for(settings_for())
    _post(client, loads, auth)
    text = client.get("/metrics").get_data(as_text=True)
    for name in (
        "gpt_summarize_requests_total",
        "gpt_model_latency_seconds_bucket",
        "gpt_tokens_total",
        "gpt_fallbacks_total",
        "gpt_prompt_estimated_tokens_bucket",
    ):
        assert name in text
    assert 'gpt_model_latency_seconds_count{result="ok"}' in text
    assert json.loads(client.get("/readyz").get_data())["status"] == "ready"


def test_temperature_can_be_left_out(fake_openai, settings_for, client_for, auth, loads):
    _post(client_for(settings_for(openai_temperature=None)), loads, auth)
    assert "temperature" not in fake_openai.seen[0].body


def test_retries_stop_at_the_deadline(fake_openai, settings_for, client_for, auth, loads):
    fake_openai.then(*[fake_openai.Reply(503, "busy", {"Retry-After": "0.6"}) for _ in range(5)])
    started = time.monotonic()
    body = _post(client_for(settings_for(openai_deadline_seconds=1.0, openai_max_retries=5)), loads, auth)

    assert body["reason"] == "upstream_error"
    assert len(fake_openai.seen) == 2  # a third attempt would start after the deadline
    assert time.monotonic() - started < 1.5


def test_a_model_answering_after_exactly_the_timeout_degrades(fake_openai, settings_for, client_for, auth, loads):
    """An answer that took the attempt's whole timeout is a timeout, not a healthy answer, even when it
    arrives in pieces none of which waited long (httpx's read timeout is per read)."""
    fake_openai.then(fake_openai.Reply(trickle=0.8))
    body = _post(client_for(settings_for(openai_timeout_seconds=0.8)), loads, auth)

    assert body["degraded"] is True and body["reason"] == "timeout"
    assert len(fake_openai.seen) == 1


def test_the_callers_remaining_time_caps_the_model_budget(fake_openai, settings_for, client_for, auth, loads):
    """automation-service says it waits 1.5 s (X-Request-Timeout-Ms): the answer comes, degraded, within them."""
    fake_openai.then(fake_openai.Reply(delay=3.0))
    client = client_for(settings_for(openai_connect_timeout_seconds=0.2, openai_timeout_seconds=10))
    started = time.monotonic()
    body = _post(client, loads, {**auth, "X-Request-Timeout-Ms": "1500"})

    assert body["degraded"] is True and body["reason"] == "timeout"
    assert time.monotonic() - started < 1.5


def test_no_time_left_answers_at_once_without_the_model(fake_openai, settings_for, client_for, auth, loads):
    body = _post(client_for(settings_for()), loads, {**auth, "X-Request-Timeout-Ms": "100"})

    assert body["degraded"] is True and body["reason"] == "timeout"
    assert fake_openai.seen == []
