"""The driver use cases: register a driver (unique by license number), list them, read one."""

from __future__ import annotations

import logging
from uuid import UUID

from servicekit.domain_errors import Conflict, NotFound

from ..adapters.postgres import Row, UniqueViolation
from ..adapters.unit_of_work import FleetUnitOfWork
from ..domain.models import DriverCreate, DriverListQuery

LICENSE_INDEX = "drivers_license_number_key"
log = logging.getLogger("fleet_api.drivers")


def create_driver(uow: FleetUnitOfWork, body: DriverCreate) -> Row:
    try:
        with uow:
            driver = uow.drivers.insert(body.name, body.license_number, str(body.status))
            uow.commit()
    except UniqueViolation as exc:
        if exc.constraint != LICENSE_INDEX:
            raise
        raise Conflict("A driver with this license number already exists.") from None
    log.info("driver created", extra={"driver_id": str(driver["id"])})
    return driver


def list_drivers(uow: FleetUnitOfWork, query: DriverListQuery) -> tuple[list[Row], int]:
    """One page of drivers, newest first, and how many the filter matches."""
    with uow:
        return uow.drivers.page(query)


def read_driver(uow: FleetUnitOfWork, driver_id: UUID) -> Row:
    with uow:
        driver = uow.drivers.get(driver_id)
    if driver is None:
        raise NotFound(f"No driver with id {driver_id}.")
    return driver
