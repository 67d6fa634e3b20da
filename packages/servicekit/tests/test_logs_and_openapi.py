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


def test_access_lines_name_the_route_template_not_the_path(client, auth, settings) -> None:
    client.get("/items/6f1c0c7e-3b1e-4a55-9a51-2c4d1d7f0a11", headers={**auth, "X-Request-ID": "req-route-1"})
    client.get("/no/such/route", headers={**auth, "X-Request-ID": "req-route-2"})
    lines = [json.loads(line) for line in (settings.log_dir / "sample.log").read_text().splitlines()]
    by_id = {entry["request_id"]: entry for entry in lines if entry["logger"] == "servicekit.access"}
    found = by_id["req-route-1"]
    assert found["route"] == "/items/<uuid:item_id>" and found["path"] == "/items/6f1c0c7e-3b1e-4a55-9a51-2c4d1d7f0a11"
    assert found["status"] == 404 and found["method"] == "GET" and found["duration_ms"] >= 0
    assert {"ts", "level", "service", "message"} <= set(found)
    # No rule matched: no template to name, and the raw path stays out of the route field.
    assert by_id["req-route-2"]["route"] is None and by_id["req-route-2"]["status"] == 404


def test_background_work_logs_with_the_request_id_it_was_given(client, settings) -> None:
    # `client`: the app, and with it the logging to LOG_DIR, exists.
    import logging
    import threading

    from servicekit.logs import current_request_id, request_id_context

    log = logging.getLogger("sample.background")

    def work(request_id: str | None) -> None:
        with request_id_context(request_id):
            log.info("background step")
        log.info("after the block")

    thread = threading.Thread(target=work, args=("req-bg-7",))
    thread.start()
    thread.join()
    assert current_request_id() is None
    lines = [json.loads(line) for line in (settings.log_dir / "sample.log").read_text().splitlines()]
    step = next(entry for entry in lines if entry["message"] == "background step")
    after = next(entry for entry in lines if entry["message"] == "after the block")
    assert step["request_id"] == "req-bg-7" and "request_id" not in after


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
    assert body["checks"]["cache"] == {"status": "down", "error": "ConnectionError"}


def test_readiness_shows_no_path_key_or_message_and_logs_them(settings) -> None:
    """/readyz is public. Failed before: it showed each error's message (a path, a missing key's name) and
    every detail a check returned; now the message goes to the log and only numbers and flags are shown."""
    from servicekit_sample import build_app

    def missing_binary():
        raise RuntimeError("no Chromium at /usr/lib/chromium/chromium (CHROMIUM_PATH)")

    def with_details():
        return {"path": "/srv/data/cache.db", "note": "OPENAI_API_KEY not configured", "pending": 3, "reachable": True}

    app = build_app(settings, readiness={"browser": missing_binary, "store": with_details})
    response = app.test_client().get("/readyz")
    text = response.get_data(as_text=True)
    assert response.status_code == 503 and response.get_json()["status"] == "not ready"
    for secret in ("/usr/lib", "CHROMIUM_PATH", "/srv/data", "OPENAI_API_KEY", "configured"):
        assert secret not in text, secret
    checks = response.get_json()["checks"]
    assert checks["browser"] == {"status": "down", "error": "RuntimeError"}
    assert checks["store"]["pending"] == 3 and checks["store"]["reachable"] is True
    assert "CHROMIUM_PATH" in (settings.log_dir / "sample.log").read_text()


def test_readiness_times_out_a_hanging_dependency(settings) -> None:
    import time

    from servicekit_sample import build_app

    settings.readiness_timeout_seconds = 0.2
    app = build_app(settings, readiness={"slow": lambda: time.sleep(2)})
    started = time.perf_counter()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and time.perf_counter() - started < 1.5
    assert "no answer" in response.get_json()["checks"]["slow"]["error"]
