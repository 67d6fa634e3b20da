"""Signing in through the page when fleet-api throttles the login: its 429 and Retry-After reach the browser
(not a 503 after a retry), and the browser's address travels as X-Forwarded-For."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture()
def throttling_login(httpserver) -> str:
    httpserver.expect_request("/auth/login", method="POST").respond_with_json(
        {"title": "Too Many Requests", "status": 429, "detail": "Too many failed logins; try again in 240 s."},
        status=429,
        headers={"Retry-After": "240", "Content-Type": "application/problem+json"},
    )
    return httpserver.url_for("/auth/login")


def test_a_throttled_sign_in_is_429_with_retry_after(deps, throttling_login, httpserver) -> None:
    from bakery_service import create_app
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.wiring import Dependencies

    app = create_app(
        deps.settings, Dependencies(deps.settings, deps.engine, deps.clients, LoginForwarder(throttling_login))
    )
    response = app.test_client().post(
        "/ui/login",
        json={"email": "baker@bakery.example", "password": "nope"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 429 and response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "240"
    assert "240 s" in response.get_json()["detail"] and response.get_json()["title"] == "Sign-in failed"
    (request, _), *rest = httpserver.log
    assert not rest, "a throttled sign-in was sent again"
    assert request.headers["X-Forwarded-For"] == "198.51.100.7"
