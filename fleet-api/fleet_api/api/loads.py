"""``/loads``: freight to move. The list is cached (see adapters/cache.py); every write invalidates it."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response, request
from servicekit import ProblemModel, endpoint

from ..domain.loads import cache_key_part
from ..domain.models import Load, LoadCreate, LoadListQuery, LoadPage, LoadUpdate
from .context import current_fleet
from .responses import json_response

bp = Blueprint("loads", __name__)


@bp.post("/loads")
@endpoint(summary="Create a load (status OPEN)", body=LoadCreate, response=Load, status=201, tags=["loads"])
def create_load(body: LoadCreate):
    fleet = current_fleet()
    load = Load.model_validate(fleet.repo.create_load(body))
    fleet.cache.invalidate()
    return json_response(load, 201, {"Location": f"/loads/{load.id}"})


@bp.get("/loads")
@endpoint(
    summary="Loads, newest first, optionally by status; cached for 60 s (X-Cache: HIT|MISS)",
    query=LoadListQuery,
    response=LoadPage,
    tags=["loads"],
)
def list_loads(query: LoadListQuery):
    fleet = current_fleet()

    def from_postgres() -> bytes:
        items, total = fleet.repo.list_loads(query)
        page = LoadPage(
            items=[Load.model_validate(r) for r in items], total=total, limit=query.limit, offset=query.offset
        )
        return page.model_dump_json(by_alias=True).encode()

    page = fleet.cache.get(cache_key_part(query), from_postgres)
    headers = {
        "X-Cache": "HIT" if page.hit else "MISS",
        "X-Cache-Source": page.source,
        "ETag": page.etag,
        "Cache-Control": "private, no-cache",
    }
    if "If-None-Match" in request.headers and request.if_none_match.contains_weak(page.etag.strip('"')):
        return Response(status=304, headers=headers)
    return Response(page.body, 200, headers=headers, mimetype="application/json")


@bp.get("/loads/<uuid:load_id>")
@endpoint(summary="One load", response=Load, tags=["loads"])
def get_load(load_id: UUID):
    return json_response(Load.model_validate(current_fleet().repo.get_load(load_id)))


@bp.patch("/loads/<uuid:load_id>")
@endpoint(
    summary="Edit a load, or cancel/reopen it (ASSIGNED and COMPLETED come from /assignments)",
    body=LoadUpdate,
    response=Load,
    responses={409: ProblemModel},
    tags=["loads"],
)
def update_load(load_id: UUID, body: LoadUpdate):
    fleet = current_fleet()
    load = Load.model_validate(fleet.repo.update_load(load_id, body))
    fleet.cache.invalidate()
    return json_response(load)
