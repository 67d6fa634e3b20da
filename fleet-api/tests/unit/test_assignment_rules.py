"""The assignment rule and the transitions, without any server."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from fleet_api.domain import assignment_rules as rules
from fleet_api.domain.models import AssignmentStatus, LoadStatus
from servicekit.domain_errors import Conflict


def test_a_free_driver_may_take_an_open_load():
    rules.check_assignable("AVAILABLE", "OPEN", False, False)


@pytest.mark.parametrize("driver_status, has_active", [("ON_LOAD", False), ("AVAILABLE", True)])
def test_a_driver_with_an_active_load_cannot_take_another(driver_status, has_active):
    with pytest.raises(Conflict, match="already has an active load") as refused:
        rules.check_assignable(driver_status, "OPEN", has_active, False)
    assert refused.value.code == "driver_busy"


def test_an_inactive_driver_cannot_take_loads():
    with pytest.raises(Conflict, match="inactive") as refused:
        rules.check_assignable("INACTIVE", "OPEN", False, False)
    assert refused.value.code == "driver_inactive"


@pytest.mark.parametrize(
    "load_status, has_driver, message, rule",
    [
        ("ASSIGNED", False, "already assigned", "load_taken"),
        ("OPEN", True, "already assigned", "load_taken"),
        ("COMPLETED", False, "COMPLETED", "load_not_open"),
        ("CANCELLED", False, "CANCELLED", "load_not_open"),
    ],
)
def test_only_an_open_unassigned_load_can_be_assigned(load_status, has_driver, message, rule):
    with pytest.raises(Conflict, match=message) as refused:
        rules.check_assignable("AVAILABLE", load_status, False, has_driver)
    assert refused.value.code == rule


def test_the_databases_unique_indexes_map_to_the_same_conflicts():
    driver_busy, load_taken = (
        rules.conflict_for_constraint(rules.DRIVER_INDEX),
        rules.conflict_for_constraint(rules.LOAD_INDEX),
    )
    assert driver_busy is not None and "active load" in driver_busy.detail and driver_busy.code == "driver_busy"
    assert load_taken is not None and "already assigned" in load_taken.detail and load_taken.code == "load_taken"
    assert rules.conflict_for_constraint("users_email_key") is None
    assert rules.conflict_for_constraint(None) is None


@pytest.mark.parametrize("target", [AssignmentStatus.COMPLETED, AssignmentStatus.CANCELLED])
def test_an_active_assignment_moves_to_a_final_state(target):
    rules.check_transition("ASSIGNED", target)


@pytest.mark.parametrize("current", ["COMPLETED", "CANCELLED"])
@pytest.mark.parametrize("target", [AssignmentStatus.COMPLETED, AssignmentStatus.CANCELLED])
def test_a_final_state_does_not_change(current, target):
    with pytest.raises(Conflict, match="final state") as refused:
        rules.check_transition(current, target)
    assert refused.value.code == "transition"


def test_nothing_moves_back_to_assigned():
    with pytest.raises(Conflict):
        rules.check_transition("ASSIGNED", AssignmentStatus.ASSIGNED)


def test_cancelling_reopens_the_load_and_completing_closes_it():
    assert rules.LOAD_STATUS_AFTER[AssignmentStatus.CANCELLED] == LoadStatus.OPEN
    assert rules.LOAD_STATUS_AFTER[AssignmentStatus.COMPLETED] == LoadStatus.COMPLETED


@pytest.mark.parametrize(
    "current, target, active, ok",
    [
        ("OPEN", LoadStatus.CANCELLED, False, True),
        ("CANCELLED", LoadStatus.OPEN, False, True),
        ("OPEN", None, True, True),
        ("ASSIGNED", LoadStatus.ASSIGNED, True, True),
        ("OPEN", LoadStatus.ASSIGNED, False, False),
        ("ASSIGNED", LoadStatus.COMPLETED, True, False),
        ("ASSIGNED", LoadStatus.CANCELLED, True, False),
        ("COMPLETED", LoadStatus.OPEN, False, False),
    ],
)
def test_load_edits_leave_assignment_states_to_assignments(current, target, active, ok):
    if ok:
        rules.check_load_update(current, target, active)
    else:
        with pytest.raises(Conflict):
            rules.check_load_update(current, target, active)


def test_the_event_carries_driver_and_load_details():
    driver = {
        "id": uuid4(),
        "name": "Ann Lee",
        "license_number": "TX-1",
        "status": "ON_LOAD",
        "created_at": datetime.now(UTC),
    }
    load = {
        "id": uuid4(),
        "origin": "Austin",
        "destination": "Dallas",
        "cargo_type": "steel",
        "status": "ASSIGNED",
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }
    assignment = {"id": uuid4()}
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    event = rules.assignment_event(AssignmentStatus.ASSIGNED, assignment, driver, load, at)
    wire = event.model_dump(mode="json")
    assert wire["type"] == "load.assigned"
    assert wire["driver"] == {
        "id": str(driver["id"]),
        "name": "Ann Lee",
        "license_number": "TX-1",
        "status": "ON_LOAD",
    }
    assert wire["load"]["origin"] == "Austin" and wire["load"]["cargo_type"] == "steel"
    assert wire["driver_id"] == str(driver["id"]) and wire["load_id"] == str(load["id"])
    assert wire["assignment_id"] == str(assignment["id"]) and wire["occurred_at"].startswith("2026-01-02T03:04:05")
    completed = rules.assignment_event(AssignmentStatus.COMPLETED, assignment, driver, load, at)
    assert completed.type == "load.completed"
    assert rules.assignment_event(AssignmentStatus.CANCELLED, assignment, driver, load, at).type == "load.cancelled"
