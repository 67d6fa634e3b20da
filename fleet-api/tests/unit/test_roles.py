"""Who may manage and read users, decided from a token's claims alone (no I/O)."""

from __future__ import annotations

import uuid

import pytest
from fleet_api.domain.roles import check_leaves_an_admin, check_may_manage_users, check_may_read_user, role_of
from servicekit.domain_errors import Conflict, Forbidden

ME = str(uuid.uuid4())


def claims(role: str | None = None, scope: str = "user", sub: str = ME) -> dict:
    found = {"sub": sub, "scope": scope}
    if role is not None:
        found["role"] = role
    return found


def test_an_admin_creates_and_reads_anyone():
    check_may_manage_users(claims("admin"))
    check_may_read_user(claims("admin"), uuid.uuid4())


def test_a_user_reads_itself_only():
    check_may_read_user(claims("user"), uuid.UUID(ME))
    with pytest.raises(Forbidden):
        check_may_read_user(claims("user"), uuid.uuid4())
    with pytest.raises(Forbidden):
        check_may_manage_users(claims("user"))


@pytest.mark.parametrize("token", [claims(None), claims("superuser"), claims("ADMIN")])
def test_a_missing_or_unknown_role_is_a_plain_user(token):
    assert role_of(token) == "user"
    with pytest.raises(Forbidden):
        check_may_manage_users(token)


def test_a_service_token_has_no_role_even_if_it_claims_one():
    service = claims("admin", scope="service", sub="automation-service")
    assert role_of(service) is None
    with pytest.raises(Forbidden):
        check_may_manage_users(service)
    with pytest.raises(Forbidden):
        check_may_read_user(service, uuid.uuid4())


@pytest.mark.parametrize(
    ("admins", "target", "new_role", "refused"),
    [
        (1, "admin", "user", True),  # demoting the last admin
        (1, "admin", None, True),  # deleting the last admin
        (2, "admin", "user", False),
        (2, "admin", None, False),
        (1, "admin", "admin", False),  # no change of role
        (1, "user", None, False),
        (0, "user", "user", False),
    ],
)
def test_the_last_admin_is_neither_demoted_nor_deleted(admins, target, new_role, refused):
    if refused:
        with pytest.raises(Conflict):
            check_leaves_an_admin(admins, target, new_role)
    else:
        check_leaves_an_admin(admins, target, new_role)
