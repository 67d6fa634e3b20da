"""GET /assignments: a page of assignments by driver, day and status."""

from __future__ import annotations

from servicekit import ApiProblem

from .adapters.assignments_table import InvalidCursor
from .domain.models import Assignment, AssignmentPage, AssignmentsQuery
from .wiring import Dependencies


def page(deps: Dependencies, query: AssignmentsQuery) -> AssignmentPage:
    try:
        items, cursor = deps.assignments.page(
            driver_id=query.driver_id,
            day=query.date.isoformat() if query.date else None,
            status=query.status.value if query.status else None,
            limit=query.limit,
            cursor=query.cursor,
        )
    except InvalidCursor as exc:
        raise ApiProblem(
            422,
            "Validation failed",
            f"Invalid: query.cursor ({exc})",
            errors=[{"loc": "query.cursor", "msg": str(exc), "type": "invalid_cursor"}],
        ) from None
    return AssignmentPage(items=[Assignment.from_item(i) for i in items], next_cursor=cursor)
