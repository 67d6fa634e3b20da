"""The gpt-service client against a local HTTP fake: service token, retries, unusable answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import jwt
import pytest
from automation_service import metrics
from automation_service.adapters.gpt import GptClient, GptUnavailable
from automation_service.domain.extracted_loads import Load, Place
from automation_service.settings import Settings
from werkzeug import Response

pytestmark = pytest.mark.integration
SECRET = "test-secret-of-automation-service-0123456789"
ANSWER = {
    "summary": "s",
    "insights": ["i"],
    "price_trends": [],
    "route_suggestions": [],
    "notes": [{"portal": "jbhunt", "load_id": "JBH1", "score": 0.5, "note": "n"}],
    "model": "m",
    "degraded": False,
    "reason": None,
    "cached": False,
    "facts": {},
}
LOAD = Load(
    portal="jbhunt",
    portal_load_id="JBH1",
    origin=Place(city="Dallas", state="TX"),
    destination=Place(city="Atlanta", state="GA"),
    price=Decimal("1800.00"),
    currency="USD",
    posted_at=datetime(2026, 11, 21, 12, tzinfo=UTC),
    miles=780,
)


def client_for(httpserver, **overrides) -> GptClient:
    return GptClient(
        Settings(
            database_url="postgresql+psycopg://unused/db",
            jwt_secret=SECRET,
            gpt_service_url=httpserver.url_for(""),
            gpt_timeout_seconds=2,
            **overrides,
        )
    )


def test_loads_go_out_with_a_service_token_and_retries_are_counted(httpserver):
    seen = []

    def answer(request):
        seen.append(request)
        if len(seen) == 1:
            return Response("busy", status=503, headers={"Retry-After": "0"})
        return Response(json.dumps(ANSWER), content_type="application/json")

    httpserver.expect_request("/summarize-loads", method="POST").respond_with_handler(answer)
    before = metrics.RETRIES.labels("", "gpt-service")._value.get()
    summary = client_for(httpserver).summarize([LOAD])
    assert summary.notes[0].load_id == "JBH1" and summary.model == "m"
    assert metrics.RETRIES.labels("", "gpt-service")._value.get() - before == 1
    claims = jwt.decode(
        seen[-1].headers["Authorization"].split()[1], SECRET, algorithms=["HS256"], audience="trucking-suite"
    )
    assert claims["scope"] == "service" and claims["sub"] == "automation-service"
    sent = seen[-1].get_json()["loads"][0]
    assert sent == {
        "portal": "jbhunt",
        "load_id": "JBH1",
        "origin": {"city": "Dallas", "state": "TX"},
        "destination": {"city": "Atlanta", "state": "GA"},
        "price": "1800.00",
        "currency": "USD",
        "posted_at": "2026-11-21T12:00:00+00:00",
        "eta": None,
        "equipment": None,
        "weight_lbs": None,
        "miles": 780,
    }


def test_a_refusal_names_the_status_and_detail(httpserver):
    httpserver.expect_request("/summarize-loads").respond_with_json(
        {"title": "Validation failed", "detail": "Invalid or missing: body.loads.0.origin"}, status=422
    )
    with pytest.raises(GptUnavailable, match="422: Invalid or missing: body.loads.0.origin"):
        client_for(httpserver).summarize([LOAD])


def test_an_answer_that_is_not_a_summary_is_refused(httpserver):
    httpserver.expect_request("/summarize-loads").respond_with_json({"summary": 3})
    with pytest.raises(GptUnavailable, match="not a summary"):
        client_for(httpserver).summarize([LOAD])


def test_a_gpt_service_that_stays_down_gives_up_after_the_attempts(httpserver):
    httpserver.expect_request("/summarize-loads").respond_with_data("down", status=502)
    with pytest.raises(GptUnavailable, match="502"):
        client_for(httpserver, gpt_max_attempts=2).summarize([LOAD])
    assert len(httpserver.log) == 2
