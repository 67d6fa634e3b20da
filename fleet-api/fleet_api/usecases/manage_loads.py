"""The load use cases that write (create; edit, cancel or reopen) and the read of one load. Each write records
the load's history row in its transaction and, once committed, invalidates the ``GET /loads`` cache. The list is
served through the cache (list_loads.py)."""

from __future__ import annotations

import logging
from uuid import UUID

from servicekit.domain_errors import NotFound

from ..adapters.cache import LoadsCache
from ..adapters.postgres import Row
from ..adapters.unit_of_work import FleetUnitOfWork
from ..domain import assignment_rules as rules
from ..domain.models import LoadCreate, LoadUpdate

log = logging.getLogger("fleet_api.loads")


def create_load(uow: FleetUnitOfWork, cache: LoadsCache, body: LoadCreate) -> Row:
    with uow:
        load = uow.loads.insert(body)
        uow.loads.record_event(load["id"], "load.created", {"status": load["status"]})
        uow.commit()
    cache.invalidate()
    log.info("load created", extra={"load_id": str(load["id"])})
    return load


def update_load(uow: FleetUnitOfWork, cache: LoadsCache, load_id: UUID, body: LoadUpdate) -> Row:
    """Edit fields, or cancel/reopen; ASSIGNED and COMPLETED only come from the assignment use cases."""
    changes = {k: str(v) for k, v in body.model_dump(exclude_unset=True, exclude_none=True).items()}
    with uow:
        load = uow.loads.get(load_id, for_update=True)
        if load is None:
            raise NotFound(f"No load with id {load_id}.")
        rules.check_load_update(load["status"], body.status, uow.assignments.has_active_for_load(load_id))
        if not changes:
            return load
        updated = uow.loads.update(load_id, changes)
        uow.loads.record_event(load_id, "load.updated", {"changes": changes, "previousStatus": load["status"]})
        uow.commit()
    cache.invalidate()
    log.info("load updated", extra={"load_id": str(load_id), "changed": sorted(changes)})
    return updated


def read_load(uow: FleetUnitOfWork, load_id: UUID) -> Row:
    with uow:
        load = uow.loads.get(load_id)
    if load is None:
        raise NotFound(f"No load with id {load_id}.")
    return load
