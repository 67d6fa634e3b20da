"""``GET /loads``: one page of loads as JSON bytes, from the cache tiers (adapters/cache.py) or, on a miss,
from Postgres. Takes a factory of units of work: a warm answer opens none."""

from __future__ import annotations

from collections.abc import Callable

from ..adapters.cache import CachedPage, LoadsCache
from ..adapters.unit_of_work import FleetUnitOfWork
from ..domain.load_pages import cache_key_part
from ..domain.models import Load, LoadListQuery, LoadPage


def page(uows: Callable[[], FleetUnitOfWork], cache: LoadsCache, query: LoadListQuery) -> CachedPage:
    def from_postgres() -> bytes:
        with uows() as uow:
            items, total = uow.loads.page(query)
        loads = LoadPage(
            items=[Load.model_validate(r) for r in items], total=total, limit=query.limit, offset=query.offset
        )
        return loads.model_dump_json(by_alias=True).encode()

    return cache.get(cache_key_part(query), from_postgres)
