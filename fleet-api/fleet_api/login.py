"""Login: e-mail and password for a bearer token that carries the user's role."""

from __future__ import annotations

from servicekit import issue_token

from .adapters.passwords import hash_password, needs_rehash, verify_password
from .domain.errors import InvalidCredentials
from .domain.models import LoginRequest, Token
from .wiring import Dependencies


def login(deps: Dependencies, body: LoginRequest) -> Token:
    # Seeded at start-up; again here when Postgres was not reachable then.
    deps.demo_user.ensure()
    user = deps.repo.credentials(body.email)
    # Same answer, and about the same time, whether the e-mail or the password is wrong.
    if not verify_password(user["password_hash"] if user else None, body.password):
        raise InvalidCredentials("Wrong e-mail or password.")
    if needs_rehash(user["password_hash"]):
        deps.repo.update_password_hash(user["id"], hash_password(body.password))
    token, expires_in = issue_token(
        deps.settings, str(user["id"]), claims={"email": user["email"], "role": user["role"]}
    )
    return Token(access_token=token, expires_in=expires_in)
