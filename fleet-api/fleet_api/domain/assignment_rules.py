"""The assignment rules: who may take which load, which transitions exist, what each one emits.

The database has the last word on "one active load per driver / per load" (two partial unique
indexes); these functions give the same answer earlier and with a clearer message, and turn the
index names into that message when a race reaches the database first. Each refusal names its rule
(``code``): clients read it, and it labels ``fleet_rule_conflicts_total``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from servicekit.domain_errors import Conflict

from .events import (
    LOAD_ASSIGNED,
    LOAD_CANCELLED,
    LOAD_COMPLETED,
    DriverSnapshot,
    LoadEventMessage,
    LoadSnapshot,
)
from .models import AssignmentStatus, DriverStatus, LoadStatus

DRIVER_INDEX = "assignments_one_active_per_driver"
LOAD_INDEX = "assignments_one_active_per_load"

# The rules that refuse an assignment or a transition with 409 (``Conflict.code``).
DRIVER_BUSY = "driver_busy"
DRIVER_INACTIVE = "driver_inactive"
LOAD_TAKEN = "load_taken"
LOAD_NOT_OPEN = "load_not_open"
TRANSITION = "transition"
RULES = (DRIVER_BUSY, DRIVER_INACTIVE, LOAD_TAKEN, LOAD_NOT_OPEN, TRANSITION)

EVENT_FOR_STATUS = {
    AssignmentStatus.ASSIGNED: LOAD_ASSIGNED,
    AssignmentStatus.COMPLETED: LOAD_COMPLETED,
    AssignmentStatus.CANCELLED: LOAD_CANCELLED,
}
# A cancelled assignment gives the load back to the board; a completed one closes it.
LOAD_STATUS_AFTER = {
    AssignmentStatus.COMPLETED: LoadStatus.COMPLETED,
    AssignmentStatus.CANCELLED: LoadStatus.OPEN,
}


def check_assignable(
    driver_status: str, load_status: str, driver_has_active_load: bool, load_has_active_driver: bool
) -> None:
    """Raise ``Conflict`` when this driver may not take this load now."""
    if driver_has_active_load or driver_status == DriverStatus.ON_LOAD:
        raise Conflict("The driver already has an active load; complete or cancel it first.", code=DRIVER_BUSY)
    if driver_status == DriverStatus.INACTIVE:
        raise Conflict("The driver is inactive and cannot take loads.", code=DRIVER_INACTIVE)
    if load_has_active_driver or load_status == LoadStatus.ASSIGNED:
        raise Conflict("The load is already assigned to a driver.", code=LOAD_TAKEN)
    if load_status != LoadStatus.OPEN:
        raise Conflict(f"The load is {load_status} and cannot be assigned.", code=LOAD_NOT_OPEN)


def conflict_for_constraint(constraint: str | None) -> Conflict | None:
    """The 409 a unique-index violation means, or None when it is not one of the rule's indexes."""
    if constraint == DRIVER_INDEX:
        return Conflict("The driver already has an active load; complete or cancel it first.", code=DRIVER_BUSY)
    if constraint == LOAD_INDEX:
        return Conflict("The load is already assigned to a driver.", code=LOAD_TAKEN)
    return None


def check_transition(current: str, target: AssignmentStatus) -> None:
    """Only an ASSIGNED assignment moves, and only to a final state."""
    if target == AssignmentStatus.ASSIGNED:
        raise Conflict("An assignment can only be moved to COMPLETED or CANCELLED.", code=TRANSITION)
    if current != AssignmentStatus.ASSIGNED:
        raise Conflict(f"The assignment is already {current}; a final state does not change.", code=TRANSITION)


def check_load_update(current: str, target: LoadStatus | None, has_active_assignment: bool) -> None:
    """PATCH /loads may open or cancel a load; assignment states move only through /assignments."""
    if target is None or target == current:
        return
    if target in (LoadStatus.ASSIGNED, LoadStatus.COMPLETED):
        raise Conflict(f"A load becomes {target} through /assignments, not by editing it.")
    if has_active_assignment:
        raise Conflict("The load has an active assignment; cancel the assignment instead.")
    if current == LoadStatus.COMPLETED:
        raise Conflict("A completed load cannot change status.")


def assignment_event(
    status: AssignmentStatus,
    assignment: dict[str, Any],
    driver: dict[str, Any],
    load: dict[str, Any],
    occurred_at: datetime,
) -> LoadEventMessage:
    """The event an assignment's creation or transition emits, with driver and load details."""
    return LoadEventMessage(
        type=EVENT_FOR_STATUS[status],
        assignment_id=assignment["id"],
        assignment_status=str(status),
        driver_id=driver["id"],
        load_id=load["id"],
        occurred_at=occurred_at,
        driver=DriverSnapshot.model_validate(driver),
        load=LoadSnapshot.model_validate(load),
    )
