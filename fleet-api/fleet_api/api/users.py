"""``/users``: the people who use the fleet back office. Admins create, change and delete users and set their
passwords, and read any user; a user reads itself. The admin-only routes are marked ``require_role``, so that
servicekit's token guard refuses anyone else (403) before the body is read."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response, g
from servicekit import ProblemModel, endpoint, require_role

from ..domain.models import PasswordChange, Role, User, UserCreate, UserUpdate
from ..usecases import manage_users
from ..wiring import deps
from .responses import json_response

bp = Blueprint("users", __name__)
ADMIN = Role.ADMIN.value
REVOKES = "; the user's tokens stop working on every service at once"


@bp.post("/users")
@require_role(ADMIN)  # checked by servicekit's guard before the body is read: 403, never 422
@endpoint(
    summary="Create a user (admins only; with a password, the user can log in)",
    body=UserCreate,
    response=User,
    status=201,
    responses={403: ProblemModel, 409: ProblemModel},
    tags=["users"],
)
def create_user(body: UserCreate) -> Response:
    user = User.model_validate(manage_users.create_user(deps().uow(), g.claims, body))
    return json_response(user, 201, {"Location": f"/users/{user.id}"})


@bp.get("/users/<uuid:user_id>")
@endpoint(
    summary="One user (an admin reads any, a user only itself)",
    response=User,
    responses={403: ProblemModel},
    tags=["users"],
)
def get_user(user_id: UUID) -> Response:
    return json_response(User.model_validate(manage_users.read_user(deps().uow(), g.claims, user_id)))


@bp.patch("/users/<uuid:user_id>")
@require_role(ADMIN)
@endpoint(
    summary=f"Change a user's name or role (admins only); demoting an admin revokes its tokens{REVOKES}",
    body=UserUpdate,
    response=User,
    responses={403: ProblemModel, 409: "The last admin cannot be demoted"},
    tags=["users"],
)
def update_user(user_id: UUID, body: UserUpdate) -> Response:
    d = deps()
    return json_response(
        User.model_validate(manage_users.update_user(d.uow(), d.token_versions, g.claims, user_id, body))
    )


@bp.put("/users/<uuid:user_id>/password")
@require_role(ADMIN)
@endpoint(
    summary=f"Set a user's password (admins only){REVOKES}",
    body=PasswordChange,
    status=204,
    responses={403: ProblemModel},
    tags=["users"],
)
def set_password(user_id: UUID, body: PasswordChange) -> Response:
    d = deps()
    manage_users.set_password(d.uow(), d.token_versions, g.claims, user_id, body)
    return Response(status=204)


@bp.delete("/users/<uuid:user_id>")
@require_role(ADMIN)
@endpoint(
    summary=f"Delete a user (admins only){REVOKES}",
    status=204,
    responses={403: ProblemModel, 409: "The last admin cannot be deleted"},
    tags=["users"],
)
def delete_user(user_id: UUID) -> Response:
    d = deps()
    manage_users.delete_user(d.uow(), d.token_versions, g.claims, user_id)
    return Response(status=204)
