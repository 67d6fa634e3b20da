"""POST /update: one assignment's status, moved along the state machine (domain.transitions), conditionally, with
its operational-log record."""

from __future__ import annotations

import logging

from servicekit.domain_errors import Conflict, NotFound

from ..adapters.assignments_table import ItemNotFound, TransitionRefused
from ..adapters.unit_of_work import DispatchUnitOfWork
from ..domain.models import Assignment, UpdateRequest
from ..domain.times import iso_millis
from ..domain.transitions import ALLOWED, sources_of
from ..metrics import status_updates
from . import Clock

log = logging.getLogger("dispatch_service.status")


def update_status(uow: DispatchUnitOfWork, request: UpdateRequest, request_id: str | None, clock: Clock) -> Assignment:
    at = iso_millis(clock())
    sources = [s.value for s in sources_of(request.status)]
    with uow:
        try:
            item = uow.assignments.update_status(
                request.driver_id, request.package_id, request.status.value, sources, at
            )
        except ItemNotFound:
            status_updates.labels(request.status.value, "not_found").inc()
            raise NotFound(f"No assignment of package {request.package_id} to driver {request.driver_id}.") from None
        except TransitionRefused as refused:
            status_updates.labels(request.status.value, "refused").inc()
            known = {s.value: s for s in ALLOWED}
            current = known.get(refused.current)
            allowed = sorted(s.value for s in ALLOWED[current]) if current is not None else []
            raise Conflict(
                f"{refused.current} -> {request.status.value} is not allowed; from {refused.current}: "
                f"{', '.join(allowed) or 'nothing (final)'}.",
                title="Transition not allowed",
                current_status=refused.current,
            ) from None
        assignment = Assignment.from_item(item)
        day = assignment.assignment_date.isoformat()
        uow.add_log(
            day,
            "update",
            f"{at.replace(':', '')}-{request_id or 'request'}",
            [
                {
                    "event": "status_changed",
                    "day": day,
                    "driver_id": assignment.driver_id,
                    "package_id": assignment.package_id,
                    "status": assignment.status.value,
                    "at": at,
                    "request_id": request_id,
                }
            ],
        )
        uow.commit()
    status_updates.labels(request.status.value, "updated").inc()
    log.info(
        "delivery status updated",
        extra={"driver_id": assignment.driver_id, "package_id": assignment.package_id, "status": request.status.value},
    )
    return assignment
