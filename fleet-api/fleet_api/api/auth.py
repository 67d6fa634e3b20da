"""``POST /auth/login``: e-mail and password for a bearer token every service of the suite accepts."""

from __future__ import annotations

import logging

from flask import Blueprint
from servicekit import ProblemModel, endpoint, issue_token, public
from sqlalchemy.exc import SQLAlchemyError

from ..adapters.passwords import hash_password, needs_rehash, verify_password
from ..domain.errors import InvalidCredentials
from ..domain.models import LoginRequest, Token
from .context import Fleet, current_fleet
from .responses import json_response

log = logging.getLogger("fleet_api.auth")
bp = Blueprint("auth", __name__)


@bp.post("/auth/login")
@public
@endpoint(
    summary="Exchange e-mail and password for a bearer token",
    body=LoginRequest,
    response=Token,
    responses={401: ProblemModel},
    tags=["auth"],
)
def login(body: LoginRequest):
    fleet = current_fleet()
    if not fleet.demo_user_seeded:
        seed_demo_user(fleet)
    user = fleet.repo.credentials(body.email)
    # Same answer, and about the same time, whether the e-mail or the password is wrong.
    if not verify_password(user["password_hash"] if user else None, body.password):
        raise InvalidCredentials("Wrong e-mail or password.")
    if needs_rehash(user["password_hash"]):
        fleet.repo.update_password_hash(user["id"], hash_password(body.password))
    token, expires_in = issue_token(fleet.settings, str(user["id"]), claims={"email": user["email"]})
    return json_response(Token(access_token=token, expires_in=expires_in))


def seed_demo_user(fleet: Fleet) -> None:
    """Create the demo user once; every worker may try, the unique e-mail lets one insert win."""
    settings = fleet.settings
    password = settings.demo_user_password.get_secret_value()
    if not password or not settings.demo_user_email:
        fleet.demo_user_seeded = True
        return
    try:
        # The slow hash only when the user is missing, not on every worker start.
        created = fleet.repo.credentials(settings.demo_user_email) is None and fleet.repo.ensure_user(
            settings.demo_user_name, settings.demo_user_email.lower(), hash_password(password)
        )
    except SQLAlchemyError as exc:
        # Postgres not up yet: the first login tries again.
        log.warning("demo user not seeded yet: %s", type(exc).__name__)
        return
    fleet.demo_user_seeded = True
    if created:
        log.info("demo user created", extra={"email": settings.demo_user_email})
