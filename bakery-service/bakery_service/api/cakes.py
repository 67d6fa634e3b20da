"""``/cakes``: recipes for one eater; the id is the name in snake_case."""

from __future__ import annotations

import re

from flask import Blueprint, Response
from servicekit import ProblemModel, endpoint
from servicekit.domain_errors import NotFound

from ..domain.models import Cake, CakeCreate, CakeList
from ..usecases.create_cake import create_cake as create
from ..usecases.delete_cake import delete_cake as delete
from ..usecases.read_cakes import get_cake as get
from ..usecases.read_cakes import list_cakes as list_all
from ..wiring import deps
from .responses import json_response

bp = Blueprint("cakes", __name__)
_CAKE_ID = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")


def _cake_id(cake_id: str) -> str:
    if len(cake_id) > 200 or not _CAKE_ID.match(cake_id):
        raise NotFound(f"No cake has the id {cake_id[:200]!r}; ids are snake_case (chocolate_cake).")
    return cake_id


@bp.get("/cakes")
@endpoint(summary="Every cake and its recipe (per eater)", response=CakeList, tags=["cakes"])
def list_cakes() -> Response:
    return json_response(CakeList(items=list_all(deps().uow())))


@bp.post("/cakes")
@endpoint(
    summary="Create a recipe: floats are grams, integers units; the id is the name in snake_case",
    body=CakeCreate,
    response=Cake,
    status=201,
    responses={409: ProblemModel},
    tags=["cakes"],
)
def create_cake(body: CakeCreate) -> Response:
    cake = create(deps().uow(), body)
    return json_response(cake, 201, {"Location": f"/cakes/{cake.id}"})


@bp.get("/cakes/<cake_id>")
@endpoint(summary="One cake", response=Cake, tags=["cakes"])
def get_cake(cake_id: str) -> Response:
    return json_response(get(deps().uow(), _cake_id(cake_id)))


@bp.delete("/cakes/<cake_id>")
@endpoint(
    summary="Delete a cake (409 while open orders use it)",
    status=204,
    responses={409: ProblemModel},
    tags=["cakes"],
)
def delete_cake(cake_id: str) -> Response:
    delete(deps().uow(), _cake_id(cake_id))
    return Response(status=204)
