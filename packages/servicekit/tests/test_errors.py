"""Every error is problem+json with a status, a title and the request id; never a stack trace."""

from __future__ import annotations

import pytest


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_unknown_route_is_a_problem_404(client) -> None:
    assert_problem(client.get("/no/such/route"), 404)


def test_wrong_method_is_405_with_allow(client) -> None:
    response = client.delete("/items", headers={})
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_body_too_large_is_413(client, auth) -> None:
    response = client.post("/items", data="x" * 5000, headers={**auth, "Content-Type": "application/json"})
    assert_problem(response, 413)


def test_not_json_is_415(client, auth) -> None:
    response = client.post("/items", data="name=a", headers={**auth, "Content-Type": "text/plain"})
    assert_problem(response, 415)


def test_malformed_json_is_400(client, auth) -> None:
    response = client.post("/items", data="{not json", headers={**auth, "Content-Type": "application/json"})
    assert_problem(response, 400)


@pytest.mark.parametrize(
    "payload, bad",
    [
        ({"name": "", "quantity": 1}, "body.name"),
        ({"name": "cake"}, "body.quantity"),
        ({"name": "cake", "quantity": "many"}, "body.quantity"),
        ([1, 2], "body"),
    ],
)
def test_invalid_body_is_422_naming_the_field(client, auth, payload, bad) -> None:
    body = assert_problem(client.post("/items", json=payload, headers=auth), 422)
    assert bad in [e["loc"] for e in body["errors"]]
    assert bad in body["detail"]


def test_invalid_query_is_422(client, auth) -> None:
    body = assert_problem(client.get("/items?limit=1000", headers=auth), 422)
    assert body["errors"][0]["loc"] == "query.limit"


def test_valid_body_passes(client, auth) -> None:
    response = client.post("/items", json={"name": "cake", "quantity": 2}, headers=auth)
    assert response.status_code == 201
    assert response.get_json() == {"name": "cake", "quantity": 2}


def test_domain_problem_keeps_its_status(client, auth) -> None:
    body = assert_problem(client.get("/items/6b1f0f8e-0c4a-4a55-9d3a-2f1c9f3f4a10", headers=auth), 404)
    assert body["title"] == "Item not found"


def test_unexpected_error_is_500_without_internals(client, auth, settings) -> None:
    response = client.get("/boom", headers=auth)
    body = assert_problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    logged = (settings.log_dir / "sample.log").read_text()
    assert "secret internals" in logged and body["request_id"] in logged


def test_dependency_outage_is_503_with_retry_after(settings, auth) -> None:
    import redis
    from servicekit_sample import build_app

    app = build_app(settings)

    @app.get("/needs-redis")
    def needs_redis():
        from testkit.servers import free_port

        redis.Redis(port=free_port(), socket_connect_timeout=0.5).ping()

    response = app.test_client().get("/needs-redis", headers=auth)
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert "Connection" not in body["detail"]


def test_nul_characters_are_refused_before_reaching_storage(client, auth) -> None:
    body = assert_problem(client.post("/items", json={"name": "ca\x00ke", "quantity": 1}, headers=auth), 422)
    assert body["errors"][0]["loc"] == "body.name"
    assert_problem(client.get("/items?limit=1%00", headers=auth), 422)
