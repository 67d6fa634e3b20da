"""R9 on the running local stack: a user's token stops working on all six services at once when an admin deletes
or demotes the user or sets its password, and login is throttled; each service checks through servicekit against
the one token-version hash (AUTH_REDIS_URL) the stack gives them all."""

from __future__ import annotations

import uuid

import pytest
import requests
from e2e_support import AUDIT, AUTOMATION, BAKERY, DISPATCH, FLEET, GPT
from stack_harness import ISSUED_TOKENS

pytestmark = pytest.mark.integration
PASSWORD = "e2e-user-password"


def one_call_per_service(token: str) -> dict[str, int]:
    """A protected operation of each service; 401 only when the token is refused."""
    headers = {"Authorization": f"Bearer {token}"}
    calls = {
        "dispatch-service": ("GET", f"{DISPATCH}/days/2026-11-30/manifest", None),
        "fleet-api": ("GET", f"{FLEET}/loads", None),
        "gpt-service": ("POST", f"{GPT}/summarize-loads", []),
        "automation-service": ("GET", f"{AUTOMATION}/runs", None),
        "bakery-service": ("GET", f"{BAKERY}/cakes", None),
        "audit-worker": ("GET", f"{AUDIT}/audit-events", None),
    }
    return {
        name: requests.request(method, url, headers=headers, json=body, timeout=30).status_code
        for name, (method, url, body) in calls.items()
    }


def new_user(http: requests.Session, role: str = "user") -> tuple[dict, str]:
    body = {"name": "E2E", "email": f"e2e-{uuid.uuid4().hex[:8]}@fleet.example", "password": PASSWORD, "role": role}
    created = http.post(f"{FLEET}/users", json=body, timeout=10)
    assert created.status_code == 201, created.text
    login = requests.post(f"{FLEET}/auth/login", json={"email": body["email"], "password": PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    ISSUED_TOKENS.append(login.json()["access_token"])
    return created.json(), login.json()["access_token"]


@pytest.mark.parametrize("revoke", ["delete", "demote", "password"])
def test_a_revoked_users_token_is_refused_by_all_six_services_at_once(http, revoke) -> None:
    user, token = new_user(http, role="admin" if revoke == "demote" else "user")
    assert 401 not in one_call_per_service(token).values()
    path = f"{FLEET}/users/{user['id']}"
    answer = {
        "delete": lambda: http.delete(path, timeout=10),
        "demote": lambda: http.patch(path, json={"role": "user"}, timeout=10),
        "password": lambda: http.put(f"{path}/password", json={"password": "another-password"}, timeout=10),
    }[revoke]()
    assert answer.status_code in (200, 204), answer.text
    assert set(one_call_per_service(token).values()) == {401}


def test_an_ordinary_user_gets_403_on_an_admin_route_whatever_the_body(http) -> None:
    _, token = new_user(http)
    headers = {"Authorization": f"Bearer {token}"}
    for body in ({}, {"name": "x"}, []):
        answer = requests.post(f"{FLEET}/users", json=body, headers=headers, timeout=10)
        assert answer.status_code == 403 and answer.headers["Content-Type"] == "application/problem+json"


def test_login_is_throttled_after_five_failures_for_an_account(http) -> None:
    user, _ = new_user(http)
    wrong = {"email": user["email"], "password": "not-the-password"}
    statuses = [requests.post(f"{FLEET}/auth/login", json=wrong, timeout=30).status_code for _ in range(5)]
    assert statuses == [401] * 5
    right = requests.post(f"{FLEET}/auth/login", json={"email": user["email"], "password": PASSWORD}, timeout=30)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    assert right.headers["Content-Type"] == "application/problem+json"
