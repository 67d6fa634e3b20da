"""Login: e-mail and password for a bearer token that carries the user's role and token version.

1. Throttle: a slot is reserved in every failure count (per address, per account, per account from this
   address) before anything about the account is looked at; a full count is 429 with Retry-After, the same
   whether the account exists or not.
2. The password is checked (a wrong e-mail costs a hash check too, and gets the same 401).
3. In one versioned transaction (keep_token_versions.py) the user's row is read again under a share lock and its
   version published to the hash every service reads. A user deleted, demoted or given a new password since
   step 2 gets 401: a token is never issued on a password that stopped being valid while it was checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from servicekit.domain_errors import Unauthenticated

from ..adapters.login_throttle import LoginThrottle
from ..adapters.passwords import hash_password, needs_rehash, verify_password
from ..adapters.token_versions import TokenVersionWriter
from ..adapters.unit_of_work import FleetUnitOfWork
from ..domain.models import LoginRequest, Token
from .keep_token_versions import versioned

WRONG = "Wrong e-mail or password."
# Signs a token for a subject with the given claims: (token, seconds until it expires).
TokenIssuer = Callable[[str, dict[str, Any]], tuple[str, int]]


def login(
    uow: FleetUnitOfWork,
    throttle: LoginThrottle,
    versions: TokenVersionWriter,
    issue: TokenIssuer,
    ensure_demo_user: Callable[[], None],
    body: LoginRequest,
    client_address: str,
) -> Token:
    # Seeded at start-up; again here when Postgres was not reachable then.
    ensure_demo_user()
    attempt = throttle.reserve(body.email, client_address)
    with uow:
        user = uow.users.credentials(body.email)
    # Same answer, and about the same time, whether the e-mail or the password is wrong.
    verified = verify_password(user["password_hash"] if user else None, body.password)
    if user is None or not verified:
        raise Unauthenticated(WRONG)  # the reserved slot stays taken: a failure
    attempt.succeeded()
    if needs_rehash(user["password_hash"]):
        rehashed = hash_password(body.password)
        with uow:
            uow.users.update_password_hash(user["id"], user["password_hash"], rehashed)
            uow.commit()
    with versioned(uow, versions):
        current = uow.users.for_update(user["id"], share=True)
        if current is None or current["token_version"] != user["token_version"]:
            raise Unauthenticated(WRONG)
        versions.set(str(current["id"]), current["token_version"])
        uow.commit()
    token, expires_in = issue(
        str(current["id"]), {"email": current["email"], "role": current["role"], "ver": current["token_version"]}
    )
    return Token(access_token=token, expires_in=expires_in)
