"""POST /update: one assignment's status, moved along the state machine (domain.transitions), conditionally."""

from __future__ import annotations

import logging

from servicekit import ApiProblem, counter

from .adapters.assignments_table import ItemNotFound, TransitionRefused
from .assign import now_iso
from .domain.models import Assignment, Status, UpdateRequest
from .domain.transitions import ALLOWED, sources_of
from .wiring import Dependencies

log = logging.getLogger("dispatch_service.status")
_updates = counter("dispatch_status_updates_total", "POST /update by target status and outcome", ["status", "outcome"])
# Known label values start at zero, so Prometheus' increase() counts the first of each too.
for _status in Status:
    for _outcome in ("updated", "refused", "not_found"):
        _updates.labels(_status.value, _outcome)


def update(deps: Dependencies, request: UpdateRequest, request_id: str | None) -> Assignment:
    at = now_iso()
    sources = [s.value for s in sources_of(request.status)]
    try:
        item = deps.assignments.update_status(request.driver_id, request.package_id, request.status.value, sources, at)
    except ItemNotFound:
        _updates.labels(request.status.value, "not_found").inc()
        raise ApiProblem(
            404, "Not Found", f"No assignment of package {request.package_id} to driver {request.driver_id}."
        ) from None
    except TransitionRefused as refused:
        _updates.labels(request.status.value, "refused").inc()
        allowed = sorted(s.value for s in ALLOWED.get(refused.current, ())) if refused.current in ALLOWED else []
        raise ApiProblem(
            409,
            "Transition not allowed",
            f"{refused.current} -> {request.status.value} is not allowed; from {refused.current}: "
            f"{', '.join(allowed) or 'nothing (final)'}.",
            current_status=refused.current,
        ) from None
    assignment = Assignment.from_item(item)
    deps.files.write_log(
        assignment.assignment_date.isoformat(),
        "update",
        f"{at.replace(':', '')}-{request_id or 'request'}",
        [
            {
                "event": "status_changed",
                "day": assignment.assignment_date.isoformat(),
                "driver_id": assignment.driver_id,
                "package_id": assignment.package_id,
                "status": assignment.status.value,
                "at": at,
                "request_id": request_id,
            }
        ],
    )
    _updates.labels(request.status.value, "updated").inc()
    log.info(
        "delivery status updated",
        extra={"driver_id": assignment.driver_id, "package_id": assignment.package_id, "status": request.status.value},
    )
    return assignment
