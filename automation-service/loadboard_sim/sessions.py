"""Signed session cookies, one per portal: stateless, so any sim worker accepts them."""

from __future__ import annotations

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_AGE_SECONDS = 8 * 3600


def _serializer(portal: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SIM"].secret_key, salt=f"session:{portal}")


def issue(portal: str, username: str) -> str:
    return _serializer(portal).dumps({"user": username})


def current_user(portal: str, cookie: str) -> str | None:
    token = request.cookies.get(cookie)
    if not token:
        return None
    try:
        return _serializer(portal).loads(token, max_age=MAX_AGE_SECONDS)["user"]
    except (BadSignature, KeyError, TypeError):
        return None
