"""Read what the runs stored: a page of loads, and the loads with the best insights."""

from __future__ import annotations

from ..adapters.unit_of_work import AutomationUnitOfWork
from ..domain.models import LoadList, LoadQuery, StoredLoad, TopInsight

TOP_COUNT = 5


def list_loads(uow: AutomationUnitOfWork, query: LoadQuery) -> LoadList:
    """Stored loads, most recently posted first, filtered by portal and states, and how many match in all."""
    with uow:
        rows, total = uow.loads.page(
            limit=query.limit,
            offset=query.offset,
            portal=query.portal,
            origin_state=query.origin_state,
            destination_state=query.destination_state,
        )
    return LoadList(
        loads=[StoredLoad.model_validate(r) for r in rows], total=total, limit=query.limit, offset=query.offset
    )


def top_insights(uow: AutomationUnitOfWork) -> list[TopInsight]:
    """The 5 loads gpt-service scored best (db/queries/top_loads_by_insight.sql's ranking)."""
    with uow:
        rows = uow.insights.top(TOP_COUNT)
    return [TopInsight.model_validate(r) for r in rows]
