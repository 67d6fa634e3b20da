"""JSON logs carry the request id; the OpenAPI document describes what the code validates."""

from __future__ import annotations

import json


def test_request_id_is_taken_echoed_and_logged(client, auth, settings) -> None:
    response = client.get("/items", headers={**auth, "X-Request-ID": "req-abc-123"})
    assert response.headers["X-Request-ID"] == "req-abc-123"
    lines = [json.loads(line) for line in (settings.log_dir / "sample.log").read_text().splitlines()]
    access = [entry for entry in lines if entry["logger"] == "servicekit.access"]
    assert access[-1]["request_id"] == "req-abc-123"
    assert access[-1]["status"] == 200 and access[-1]["service"] == "sample"


def test_unsafe_request_id_is_replaced(client, auth) -> None:
    response = client.get("/items", headers={**auth, "X-Request-ID": "bad id with spaces;and<script>"})
    assert response.headers["X-Request-ID"] != "bad id with spaces;and<script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_tokens_never_reach_the_logs(client, auth, token, settings) -> None:
    client.get("/items", headers=auth)
    client.get("/boom", headers=auth)
    assert token not in (settings.log_dir / "sample.log").read_text()


def test_openapi_describes_bodies_queries_and_security(client) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    create = document["paths"]["/items"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ItemIn"}
    assert create["security"] == [{"bearerAuth": []}]
    assert {"201", "401", "415", "422"} <= set(create["responses"])
    assert document["components"]["schemas"]["ItemIn"]["required"] == ["name", "quantity"]
    listing = document["paths"]["/items"]["get"]
    assert listing["parameters"][0]["name"] == "limit" and listing["parameters"][0]["in"] == "query"
    assert document["paths"]["/items/{item_id}"]["get"]["parameters"][0]["schema"]["format"] == "uuid"
    assert "security" not in document["paths"]["/healthz"]["get"]
    assert "security" not in document["paths"]["/open"]["get"]


def test_docs_page_lists_the_operations(client) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assert "/items" in page and "openapi.json" in page


def test_readiness_names_each_dependency(settings) -> None:
    from servicekit_sample import build_app

    def broken():
        raise ConnectionError("refused")

    app = build_app(settings, readiness={"database": lambda: None, "cache": broken})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["cache"] == {"status": "down", "error": "ConnectionError: refused"}


def test_readiness_times_out_a_hanging_dependency(settings) -> None:
    import time

    from servicekit_sample import build_app

    settings.readiness_timeout_seconds = 0.2
    app = build_app(settings, readiness={"slow": lambda: time.sleep(2)})
    started = time.perf_counter()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and time.perf_counter() - started < 1.5
    assert "no answer" in response.get_json()["checks"]["slow"]["error"]
