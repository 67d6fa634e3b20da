"""The HTTP contract of POST /summarize-loads: auth, validation, limits, and the fallback answer."""

from __future__ import annotations

import json

import pytest
from servicekit import issue_token

pytestmark = pytest.mark.integration


@pytest.fixture()
def client(client_for, settings_for):
    # A key but no reachable model is not needed here: without a key every answer is the fallback.
    return client_for(settings_for(openai_api_key=None))


def test_a_token_is_required(client, loads):
    response = client.post("/summarize-loads", json=loads)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_token_from_another_issuer_key_is_refused(client, loads):
    from gpt_service.settings import Settings

    forged = issue_token(Settings(jwt_secret="another-secret-entirely-0123456789"), "x")[0]
    response = client.post("/summarize-loads", json=loads, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_user_and_service_tokens_are_both_accepted(client, loads, auth, user_auth):
    for headers in (auth, user_auth):
        response = client.post("/summarize-loads", json=loads, headers=headers)
        assert response.status_code == 200
        assert response.get_json()["reason"] == "no_api_key"


def test_an_object_with_loads_is_the_same_as_an_array(client, loads, auth):
    as_array = client.post("/summarize-loads", json=loads, headers=auth).get_json()
    as_object = client.post("/summarize-loads", json={"loads": loads}, headers=auth).get_json()
    assert as_array == as_object


def test_the_fallback_answer_is_complete(client, loads, auth):
    body = client.post("/summarize-loads", json=loads, headers=auth).get_json()
    assert body["degraded"] is True and body["model"] == "deterministic"
    assert body["summary"] and 1 <= len(body["insights"]) <= 8
    overall = body["price_trends"][0]
    assert overall["lane"] is None and overall["direction"] in ("up", "down", "flat")
    assert body["route_suggestions"]
    assert [n["load_id"] for n in body["notes"]] == [load["load_id"] for load in loads]
    assert all(0 <= n["score"] <= 1 for n in body["notes"])
    assert body["facts"]["load_count"] == 40 and body["facts"]["portals"] == {"jbhunt": 20, "landstar": 20}


def test_each_bad_field_is_named(client, loads, auth):
    bad = [dict(loads[0]), dict(loads[1]), dict(loads[2])]
    del bad[0]["origin"]
    bad[1]["price"] = "Call"
    bad[2]["posted_at"] = "2026-11-20T08:00:00"  # no offset: ambiguous across portals' time zones
    response = client.post("/summarize-loads", json=bad, headers=auth)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    locs = {error["loc"] for error in response.get_json()["errors"]}
    assert locs == {"body.loads.0.origin", "body.loads.1.price", "body.loads.2.posted_at"}


@pytest.mark.parametrize("payload", [[], {"loads": []}, {"items": []}, "text", 42, [1, 2]])
def test_shapes_that_are_not_loads_are_422(client, auth, payload):
    response = client.post("/summarize-loads", json=payload, headers=auth)
    assert response.status_code == 422


def test_duplicate_loads_are_422(client, loads, auth):
    response = client.post("/summarize-loads", json=[loads[0], loads[1], loads[0]], headers=auth)
    assert response.status_code == 422
    assert "loads.2: duplicate of loads.0" in response.get_data(as_text=True)


def test_more_than_500_loads_is_422(client, auth):
    from importlib import import_module

    many = import_module("gpt_service.domain.loads").MAX_LOADS + 1
    loads = [{"portal": "p", "load_id": str(i), "origin": "A, TX", "destination": "B, OK"} for i in range(many)]
    response = client.post("/summarize-loads", json=loads, headers=auth)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["loc"] == "body.loads"


def test_a_body_over_the_limit_is_413(client_for, settings_for, auth):
    client = client_for(settings_for(max_content_length=2048))
    loads = [
        {"portal": "p", "load_id": str(i), "origin": "Amarillo, TX", "destination": "Tulsa, OK", "equipment": "Dry Van"}
        for i in range(60)
    ]
    response = client.post(
        "/summarize-loads", data=json.dumps(loads), headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_a_body_that_is_not_json_is_refused(client, auth):
    assert (
        client.post(
            "/summarize-loads", data="portal=x", headers={**auth, "Content-Type": "application/x-www-form-urlencoded"}
        ).status_code
        == 415
    )
    assert (
        client.post("/summarize-loads", data="[{", headers={**auth, "Content-Type": "application/json"}).status_code
        == 400
    )


def test_the_openapi_document_describes_the_endpoint(client):
    document = client.get("/openapi.json").get_json()
    operation = document["paths"]["/summarize-loads"]["post"]
    assert {"200", "401", "413", "422"} <= set(operation["responses"])
    assert "SummaryResponse" in document["components"]["schemas"]
    assert operation["security"] == [{"bearerAuth": []}]


def test_readiness_says_nothing_about_the_model_key(client):
    """/readyz is public: ready without a key (answers are degraded), and no word of keys or settings."""
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["status"] == "ready"
    text = response.get_data(as_text=True).lower()
    assert "openai" not in text and "key" not in text and "configured" not in text


def test_loads_without_portal_or_load_id_are_summarised_by_position(client, auth):
    loads = [
        {"origin": "Dallas, TX", "destination": "Austin, TX", "price": 900, "miles": 200},
        {"origin": "Austin, TX", "destination": "Houston, TX", "price": 700, "miles": 165},
    ]
    response = client.post("/summarize-loads", json=loads, headers=auth)
    assert response.status_code == 200, response.get_json()
    notes = response.get_json()["notes"]
    assert [(n["portal"], n["load_id"], n["position"]) for n in notes] == [(None, None, 1), (None, None, 2)]


@pytest.mark.parametrize("field", ["price", "miles", "weight_lbs"])
def test_a_boolean_is_not_a_number(client, loads, auth, field):
    response = client.post("/summarize-loads", json=[{**loads[0], field: True}], headers=auth)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in json.dumps(response.get_json()["errors"])
