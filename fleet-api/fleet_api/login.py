"""Login: e-mail and password for a bearer token that carries the user's role and token version.

1. Throttle: a slot is reserved in every failure count (per address, per account, per account from this
   address) before anything about the account is looked at; a full count is 429 with Retry-After, the same
   whether the account exists or not.
2. The password is checked (a wrong e-mail costs a hash check too, and gets the same 401).
3. In one versioned transaction (token_versions.py) the user's row is read again under a share lock and its
   version published to the hash every service reads. A user deleted, demoted or given a new password since
   step 2 gets 401: a token is never issued on a password that stopped being valid while it was checked.
"""

from __future__ import annotations

from servicekit import issue_token

from . import token_versions
from .adapters.passwords import hash_password, needs_rehash, verify_password
from .domain.errors import InvalidCredentials
from .domain.models import LoginRequest, Token
from .wiring import Dependencies

WRONG = "Wrong e-mail or password."


def login(deps: Dependencies, body: LoginRequest, client_address: str) -> Token:
    # Seeded at start-up; again here when Postgres was not reachable then.
    deps.demo_user.ensure()
    attempt = deps.login_throttle.reserve(body.email, client_address)
    user = deps.repo.credentials(body.email)
    # Same answer, and about the same time, whether the e-mail or the password is wrong.
    if not verify_password(user["password_hash"] if user else None, body.password):
        raise InvalidCredentials(WRONG)  # the reserved slot stays taken: a failure
    attempt.succeeded()
    if needs_rehash(user["password_hash"]):
        deps.repo.update_password_hash(user["id"], user["password_hash"], hash_password(body.password))
    with token_versions.versioned_transaction(deps.repo, deps.token_versions) as conn:
        current = deps.repo.user_for_update(conn, user["id"], share=True)
        if current is None or current["token_version"] != user["token_version"]:
            raise InvalidCredentials(WRONG)
        deps.token_versions.set(str(current["id"]), current["token_version"])
    token, expires_in = issue_token(
        deps.settings,
        str(current["id"]),
        claims={"email": current["email"], "role": current["role"], "ver": current["token_version"]},
    )
    return Token(access_token=token, expires_in=expires_in)
