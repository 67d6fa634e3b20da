"""Who may create and read users, decided from a token's claims alone (no I/O)."""

from __future__ import annotations

import uuid

import pytest
from fleet_api.domain.errors import Forbidden
from fleet_api.domain.roles import check_may_create_user, check_may_read_user, role_of

ME = str(uuid.uuid4())


def claims(role: str | None = None, scope: str = "user", sub: str = ME) -> dict:
    found = {"sub": sub, "scope": scope}
    if role is not None:
        found["role"] = role
    return found


def test_an_admin_creates_and_reads_anyone():
    check_may_create_user(claims("admin"))
    check_may_read_user(claims("admin"), uuid.uuid4())


def test_a_user_reads_itself_only():
    check_may_read_user(claims("user"), uuid.UUID(ME))
    with pytest.raises(Forbidden):
        check_may_read_user(claims("user"), uuid.uuid4())
    with pytest.raises(Forbidden):
        check_may_create_user(claims("user"))


@pytest.mark.parametrize("token", [claims(None), claims("superuser"), claims("ADMIN")])
def test_a_missing_or_unknown_role_is_a_plain_user(token):
    assert role_of(token) == "user"
    with pytest.raises(Forbidden):
        check_may_create_user(token)


def test_a_service_token_has_no_role_even_if_it_claims_one():
    service = claims("admin", scope="service", sub="automation-service")
    assert role_of(service) is None
    with pytest.raises(Forbidden):
        check_may_create_user(service)
    with pytest.raises(Forbidden):
        check_may_read_user(service, uuid.uuid4())
