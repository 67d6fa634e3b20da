"""The load use cases that write: create, and edit or cancel/reopen. Reads are served through the cache."""

from __future__ import annotations

import logging
from uuid import UUID

from .adapters.cache import CachedPage
from .adapters.postgres import Row
from .domain import assignments as rules
from .domain.errors import NotFound
from .domain.loads import cache_key_part
from .domain.models import Load, LoadCreate, LoadListQuery, LoadPage, LoadUpdate
from .wiring import Dependencies

log = logging.getLogger("fleet_api.loads")


def create(deps: Dependencies, body: LoadCreate) -> Row:
    with deps.repo.transaction() as conn:
        load = deps.repo.insert_load(conn, body)
        deps.repo.record_load_event(conn, load["id"], "load.created", {"status": load["status"]})
    deps.cache.invalidate()
    log.info("load created", extra={"load_id": str(load["id"])})
    return load


def update(deps: Dependencies, load_id: UUID, body: LoadUpdate) -> Row:
    """Edit fields, or cancel/reopen; ASSIGNED and COMPLETED only come from the assignment use cases."""
    repo = deps.repo
    changes = {k: str(v) for k, v in body.model_dump(exclude_unset=True, exclude_none=True).items()}
    with repo.transaction() as conn:
        load = repo.load(conn, load_id, for_update=True)
        if load is None:
            raise NotFound(f"No load with id {load_id}.")
        rules.check_load_update(load["status"], body.status, repo.has_active_assignment(conn, load_id))
        if not changes:
            return load
        updated = repo.update_load(conn, load_id, changes)
        repo.record_load_event(conn, load_id, "load.updated", {"changes": changes, "previousStatus": load["status"]})
    deps.cache.invalidate()
    log.info("load updated", extra={"load_id": str(load_id), "changed": sorted(changes)})
    return updated


def page(deps: Dependencies, query: LoadListQuery) -> CachedPage:
    """One page of loads as JSON bytes, from the cache tiers or, on a miss, from Postgres."""

    def from_postgres() -> bytes:
        items, total = deps.repo.list_loads(query)
        loads = LoadPage(
            items=[Load.model_validate(r) for r in items], total=total, limit=query.limit, offset=query.offset
        )
        return loads.model_dump_json(by_alias=True).encode()

    return deps.cache.get(cache_key_part(query), from_postgres)
