"""The delivery state machine of an assignment.

    assigned ──> accepted ──> in_progress ──> delivered (final)
       │  ^         │  │           │
       │  └─────────┘  │           │
       │  (handed back)│           │
       └───────────────┴───────────┴──> failed_to_deliver ──> assigned (rescheduled)

`assigned` may also go straight to `in_progress` (a driver who starts without accepting first). Asking for
the status an item already has is allowed and changes nothing, so a retried update succeeds.
"""

from __future__ import annotations

from .models import Status

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.ASSIGNED: frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.FAILED_TO_DELIVER}),
    Status.ACCEPTED: frozenset({Status.IN_PROGRESS, Status.ASSIGNED, Status.FAILED_TO_DELIVER}),
    Status.IN_PROGRESS: frozenset({Status.DELIVERED, Status.FAILED_TO_DELIVER}),
    Status.DELIVERED: frozenset(),
    Status.FAILED_TO_DELIVER: frozenset({Status.ASSIGNED}),
}


def sources_of(target: Status) -> list[Status]:
    """The statuses an item may have for an update to `target` to be accepted (itself included)."""
    return sorted({target, *(s for s, targets in ALLOWED.items() if target in targets)})


def allowed(current: Status, target: Status) -> bool:
    return current == target or target in ALLOWED[current]
