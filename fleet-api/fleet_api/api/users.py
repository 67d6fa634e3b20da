"""``/users``: the people who use the fleet back office. Admins create users and read any; a user reads itself."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, g
from servicekit import ProblemModel, endpoint, require_role

from .. import users
from ..domain.models import Role, User, UserCreate
from ..wiring import deps
from .responses import json_response

bp = Blueprint("users", __name__)


@bp.post("/users")
@require_role(Role.ADMIN.value)  # checked by servicekit's guard before the body is read: 403, never 422
@endpoint(
    summary="Create a user (admins only; with a password, the user can log in)",
    body=UserCreate,
    response=User,
    status=201,
    responses={403: ProblemModel, 409: ProblemModel},
    tags=["users"],
)
def create_user(body: UserCreate):
    user = User.model_validate(users.create(deps(), g.claims, body))
    return json_response(user, 201, {"Location": f"/users/{user.id}"})


@bp.get("/users/<uuid:user_id>")
@endpoint(
    summary="One user (an admin reads any, a user only itself)",
    response=User,
    responses={403: ProblemModel},
    tags=["users"],
)
def get_user(user_id: UUID):
    return json_response(User.model_validate(users.read(deps(), g.claims, user_id)))
