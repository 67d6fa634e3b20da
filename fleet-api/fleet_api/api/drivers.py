"""``/drivers``: who can take a load."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response
from servicekit import ProblemModel, endpoint

from ..domain.models import Driver, DriverCreate, DriverListQuery, DriverPage
from ..usecases import manage_drivers
from ..wiring import deps
from .responses import json_response

bp = Blueprint("drivers", __name__)


@bp.post("/drivers")
@endpoint(
    summary="Create a driver",
    body=DriverCreate,
    response=Driver,
    status=201,
    responses={409: ProblemModel},
    tags=["drivers"],
)
def create_driver(body: DriverCreate) -> Response:
    driver = Driver.model_validate(manage_drivers.create_driver(deps().uow(), body))
    return json_response(driver, 201, {"Location": f"/drivers/{driver.id}"})


@bp.get("/drivers")
@endpoint(
    summary="Drivers, newest first, optionally by status", query=DriverListQuery, response=DriverPage, tags=["drivers"]
)
def list_drivers(query: DriverListQuery) -> Response:
    items, total = manage_drivers.list_drivers(deps().uow(), query)
    return json_response(
        DriverPage(items=[Driver.model_validate(r) for r in items], total=total, limit=query.limit, offset=query.offset)
    )


@bp.get("/drivers/<uuid:driver_id>")
@endpoint(summary="One driver", response=Driver, tags=["drivers"])
def get_driver(driver_id: UUID) -> Response:
    return json_response(Driver.model_validate(manage_drivers.read_driver(deps().uow(), driver_id)))
