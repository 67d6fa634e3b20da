"""fleet-api's domain metrics, declared once. The loads cache counts its own (adapters/cache.py), and so does
the outbox relay (background/outbox_relay.py), a process of its own whose /metrics the API's does not repeat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from servicekit import counter
from servicekit.domain_errors import Conflict, DomainError, status_of

from .domain.assignment_rules import RULES, TRANSITION

assignment_outcomes = counter(
    "fleet_assignment_requests_total", "Assignment attempts and transitions by outcome", ["action", "outcome"]
)
rule_conflicts = counter("fleet_rule_conflicts_total", "Requests refused with 409, by the rule that refused", ["rule"])

# The outcome of an assignment action is the status its request ends in (or ``error``), as the dashboards
# and alerts read it; a refusal's status comes from servicekit's one table of them.
_SUCCESS = {"assign": "201", "completed": "200", "cancelled": "200"}

# Known label values start at zero, so Prometheus' increase() counts the first of each too.
for _rule in RULES:
    rule_conflicts.labels(_rule)
for _action, _success in _SUCCESS.items():
    for _outcome in (_success, "409", "404", "error"):
        assignment_outcomes.labels(_action, _outcome)


@contextmanager
def counted_assignment(action: str) -> Iterator[None]:
    """Count one assignment action (``assign``, ``completed``, ``cancelled``) by how it ended."""
    try:
        yield
    except DomainError as exc:
        assignment_outcomes.labels(action, str(status_of(exc)[0])).inc()
        if isinstance(exc, Conflict):
            rule_conflicts.labels(exc.code if exc.code in RULES else TRANSITION).inc()
        raise
    except BaseException:
        assignment_outcomes.labels(action, "error").inc()
        raise
    assignment_outcomes.labels(action, _SUCCESS[action]).inc()
