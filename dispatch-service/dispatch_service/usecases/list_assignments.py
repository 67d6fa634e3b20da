"""GET /assignments: a page of assignments by driver, day and status."""

from __future__ import annotations

from servicekit.domain_errors import NotFound

from ..adapters.assignments_table import InvalidCursor
from ..adapters.unit_of_work import DispatchUnitOfWork
from ..domain.models import Assignment, AssignmentPage, AssignmentsQuery


def list_assignments(uow: DispatchUnitOfWork, query: AssignmentsQuery) -> AssignmentPage:
    try:
        items, cursor = uow.assignments.page(
            driver_id=query.driver_id,
            day=query.date.isoformat() if query.date else None,
            status=query.status.value if query.status else None,
            limit=query.limit,
            cursor=query.cursor,
        )
    except InvalidCursor as exc:
        # The cursor is well formed (the query model checks that) but leads to no page: like an unknown id.
        raise NotFound(
            f"No page at this cursor ({exc}); start again without one.",
            errors=[{"loc": "query.cursor", "msg": str(exc), "type": "invalid_cursor"}],
        ) from None
    return AssignmentPage(items=[Assignment.from_item(i) for i in items], next_cursor=cursor)
