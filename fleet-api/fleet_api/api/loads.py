"""``/loads``: freight to move. The list is cached (see adapters/cache.py); every write invalidates it."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response, request
from servicekit import ProblemModel, endpoint

from ..domain.models import Load, LoadCreate, LoadListQuery, LoadPage, LoadUpdate
from ..usecases import list_loads as cached_list
from ..usecases import manage_loads
from ..wiring import deps
from .responses import json_response

bp = Blueprint("loads", __name__)


@bp.post("/loads")
@endpoint(summary="Create a load (status OPEN)", body=LoadCreate, response=Load, status=201, tags=["loads"])
def create_load(body: LoadCreate) -> Response:
    d = deps()
    load = Load.model_validate(manage_loads.create_load(d.uow(), d.cache, body))
    return json_response(load, 201, {"Location": f"/loads/{load.id}"})


@bp.get("/loads")
@endpoint(
    summary="Loads, newest first, optionally by status; cached for 60 s (X-Cache: HIT|MISS)",
    query=LoadListQuery,
    response=LoadPage,
    tags=["loads"],
)
def list_loads(query: LoadListQuery) -> Response:
    d = deps()
    page = cached_list.page(d.uow, d.cache, query)
    headers = [
        ("X-Cache", "HIT" if page.hit else "MISS"),
        ("X-Cache-Source", page.source),
        ("ETag", page.etag),
        ("Cache-Control", "private, no-cache"),
    ]
    # The raw header first: parsing If-None-Match costs more than the rest of a warm answer.
    if request.environ.get("HTTP_IF_NONE_MATCH") and request.if_none_match.contains_weak(page.etag.strip('"')):
        return Response(status=304, headers=headers)
    return Response(page.body, 200, headers=headers, content_type="application/json")


@bp.get("/loads/<uuid:load_id>")
@endpoint(summary="One load", response=Load, tags=["loads"])
def get_load(load_id: UUID) -> Response:
    return json_response(Load.model_validate(manage_loads.read_load(deps().uow(), load_id)))


@bp.patch("/loads/<uuid:load_id>")
@endpoint(
    summary="Edit a load, or cancel/reopen it (ASSIGNED and COMPLETED come from /assignments)",
    body=LoadUpdate,
    response=Load,
    responses={409: ProblemModel},
    tags=["loads"],
)
def update_load(load_id: UUID, body: LoadUpdate) -> Response:
    d = deps()
    return json_response(Load.model_validate(manage_loads.update_load(d.uow(), d.cache, load_id, body)))
