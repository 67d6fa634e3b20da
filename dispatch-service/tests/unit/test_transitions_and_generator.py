"""The delivery state machine and the day generator."""

from __future__ import annotations

import datetime as dt

import pytest
from dispatch_service.domain.generator import generate_day
from dispatch_service.domain.models import Manifest, Status
from dispatch_service.domain.transitions import allowed, sources_of

S = Status


@pytest.mark.parametrize(
    "current, target",
    [
        (S.ASSIGNED, S.ACCEPTED),
        (S.ASSIGNED, S.IN_PROGRESS),
        (S.ACCEPTED, S.IN_PROGRESS),
        (S.ACCEPTED, S.ASSIGNED),
        (S.IN_PROGRESS, S.DELIVERED),
        (S.IN_PROGRESS, S.FAILED_TO_DELIVER),
        (S.FAILED_TO_DELIVER, S.ASSIGNED),
        (S.DELIVERED, S.DELIVERED),
    ],
)
def test_allowed_transitions(current, target):
    assert allowed(current, target)
    assert current in sources_of(target)


@pytest.mark.parametrize(
    "current, target",
    [
        (S.DELIVERED, S.ASSIGNED),
        (S.DELIVERED, S.FAILED_TO_DELIVER),
        (S.ASSIGNED, S.DELIVERED),
        (S.FAILED_TO_DELIVER, S.DELIVERED),
        (S.IN_PROGRESS, S.ASSIGNED),
    ],
)
def test_refused_transitions(current, target):
    assert not allowed(current, target)
    assert current not in sources_of(target)


def test_generator_is_deterministic_and_valid():
    day = dt.date(2026, 11, 30)
    first = generate_day(day, 20, 300, seed=5)
    assert first == generate_day(day, 20, 300, seed=5)
    assert first != generate_day(day, 20, 300, seed=6)
    parsed = Manifest.model_validate_json(first.model_dump_json(exclude_none=True))
    assert [d.driver_id for d in parsed.drivers][:3] == ["driver_1", "driver_2", "driver_3"]
    assert len({p.package_id for p in parsed.packages}) == 300
