"""``/users``: the people who use the fleet back office."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint
from servicekit import ProblemModel, endpoint

from ..adapters.passwords import hash_password
from ..domain.models import User, UserCreate
from .context import current_fleet
from .responses import json_response

bp = Blueprint("users", __name__)


@bp.post("/users")
@endpoint(
    summary="Create a user (with a password, the user can log in)",
    body=UserCreate,
    response=User,
    status=201,
    responses={409: ProblemModel},
    tags=["users"],
)
def create_user(body: UserCreate):
    password_hash = hash_password(body.password) if body.password else None
    row = current_fleet().repo.create_user(body.name, body.email, password_hash)
    user = User.model_validate(row)
    return json_response(user, 201, {"Location": f"/users/{user.id}"})


@bp.get("/users/<uuid:user_id>")
@endpoint(summary="One user", response=User, tags=["users"])
def get_user(user_id: UUID):
    return json_response(User.model_validate(current_fleet().repo.get_user(user_id)))
