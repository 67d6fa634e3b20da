"""R9: login throttled per account and per client address, on a real Redis: 429 problem+json with Retry-After after
the documented number of failures, the same whether the account exists or not, the owner not locked out from
elsewhere nor for long, and no more password checks than the limits allow under a storm of parallel attempts."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_network

import pytest

from ..conftest import add_user, forget_login_failures

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"
PASSWORD = "owner-password-1"


@pytest.fixture()
def make_client(settings):
    """An app with the given throttle settings; its user ``owner`` has password PASSWORD."""
    from fleet_api import create_app
    from fleet_api.adapters.passwords import hash_password
    from servicekit import close_app

    built = []
    owner_hash = hash_password(PASSWORD)

    def make(**overrides):
        app = create_app(settings.model_copy(update=overrides))
        built.append(app)
        forget_login_failures(app.config["SETTINGS"].redis_url.get_secret_value())
        email = f"owner-{uuid.uuid4().hex[:8]}@fleet.example"
        add_user(app, "Owner", email, owner_hash, "user")
        return app.test_client(), email

    yield make
    for app in built:
        close_app(app)


def attempt(client, email: str, password: str = "wrong-password", address: str | None = None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/auth/login", json={"email": email, "password": password}, headers=headers)


def test_the_sixth_attempt_after_five_failures_is_429_whatever_the_password(make_client) -> None:
    """The documented defaults: 5 failures for one account from one address within 5 minutes."""
    client, email = make_client()
    assert [attempt(client, email).status_code for _ in range(5)] == [401] * 5
    refused = attempt(client, email, PASSWORD)  # the right password too: a 200 here would be an oracle
    assert refused.status_code == 429 and refused.mimetype == PROBLEM
    body = refused.get_json()
    assert body["title"] == "Too Many Requests" and body["status"] == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 300
    assert f"{refused.headers['Retry-After']} s" in body["detail"]


def test_a_429_does_not_tell_whether_the_account_exists(make_client) -> None:
    client, email = make_client(login_max_failures_per_account_and_address=2)
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@fleet.example"
    answers = {}
    for who in (email, nobody):
        statuses = [attempt(client, who).status_code for _ in range(3)]
        refused = attempt(client, who)
        answers[who] = (statuses, refused.status_code, refused.get_json()["title"], refused.headers["Retry-After"])
    assert answers[email][:3] == answers[nobody][:3] == ([401, 401, 429], 429, "Too Many Requests")
    assert abs(int(answers[email][3]) - int(answers[nobody][3])) <= 5


def test_an_attacker_elsewhere_does_not_lock_the_owner_out(make_client) -> None:
    client, email = make_client(
        trusted_proxies=(ip_network("127.0.0.1/32"),), login_max_failures_per_account_and_address=2
    )
    attacker, owner = "203.0.113.5", "198.51.100.7"
    assert [attempt(client, email, address=attacker).status_code for _ in range(3)] == [401, 401, 429]
    assert attempt(client, email, PASSWORD, address=owner).status_code == 200
    assert attempt(client, email, PASSWORD, address=attacker).status_code == 429


def test_failures_from_many_addresses_throttle_the_account_everywhere(make_client) -> None:
    client, email = make_client(trusted_proxies=(ip_network("127.0.0.1/32"),), login_max_failures_per_account=3)
    assert [attempt(client, email, address=f"203.0.113.{i}").status_code for i in range(3)] == [401] * 3
    assert attempt(client, email, PASSWORD, address="198.51.100.7").status_code == 429


def test_one_address_failing_across_accounts_is_throttled_another_address_is_not(make_client) -> None:
    client, email = make_client(trusted_proxies=(ip_network("127.0.0.1/32"),), login_max_failures_per_address=3)
    others = [f"guess-{i}@fleet.example" for i in range(3)]
    assert [attempt(client, other, address="203.0.113.9").status_code for other in others] == [401] * 3
    assert attempt(client, "guess-9@fleet.example", address="203.0.113.9").status_code == 429
    assert attempt(client, email, PASSWORD, address="203.0.113.9").status_code == 429
    assert attempt(client, email, PASSWORD, address="198.51.100.7").status_code == 200


def test_without_trusted_proxies_x_forwarded_for_changes_nothing(make_client) -> None:
    """Anyone can send the header: unless the peer is a configured proxy, it is not the client address."""
    client, email = make_client(login_max_failures_per_account_and_address=2)
    statuses = [attempt(client, email, address=f"203.0.113.{i}").status_code for i in range(3)]
    assert statuses == [401, 401, 429]
    assert attempt(client, email, PASSWORD, address="198.51.100.7").status_code == 429


def test_the_lock_lifts_by_itself_when_the_failures_age_out(make_client) -> None:
    client, email = make_client(login_failure_window_seconds=4, login_max_failures_per_account_and_address=1)
    assert attempt(client, email).status_code == 401
    refused = attempt(client, email, PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 4
    time.sleep(int(refused.headers["Retry-After"]) + 0.1)
    assert attempt(client, email, PASSWORD).status_code == 200


def test_a_success_forgives_the_owners_own_typos_from_that_address(make_client) -> None:
    client, email = make_client(login_max_failures_per_account_and_address=3)
    for _ in range(2):
        assert [attempt(client, email).status_code for _ in range(2)] == [401, 401]
        assert attempt(client, email, PASSWORD).status_code == 200


def test_a_storm_of_parallel_attempts_gets_no_more_password_checks_than_the_limit(make_client) -> None:
    """The slot is reserved before the password is checked, atomically for every rule: 20 attempts at once get
    exactly the 3 checks the limit allows, every other one is 429."""
    client, email = make_client(login_max_failures_per_account_and_address=3)
    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(lambda _: attempt(client, email).status_code, range(20)))
    assert statuses == [401] * 3 + [429] * 17


def test_login_without_redis_is_503_not_unthrottled(make_client) -> None:
    from pydantic import SecretStr
    from testkit.servers import free_port

    client, email = make_client(redis_url=SecretStr(f"redis://127.0.0.1:{free_port()}/0"))
    refused = attempt(client, email, PASSWORD)
    assert refused.status_code == 503 and refused.mimetype == PROBLEM
    assert int(refused.headers["Retry-After"]) > 0
