"""R11 on the local stack: concurrent /assign calls for one day, identical, overlapping and disjoint, a reused
key, a gunicorn worker killed mid-run and the AWS endpoint stopped for a few seconds; then the history checker
reads the day back (dispatch_storm.py says how). The long version (many seeds) is bench/dispatch_storm.py."""

from __future__ import annotations

import pytest
from dispatch_storm import Call, describe, storm

pytestmark = pytest.mark.integration


def test_eight_concurrent_calls_for_one_day_all_answer_within_a_minute_and_none_503(stack, token) -> None:
    """The issue's day of 100 drivers x 3,000 packages: eight identical calls (one run, seven answers of its
    result), then eight calls for different drivers on another day (one run after the other, each on what the
    others left, or 409 with Retry-After past ASSIGN_WAIT_SECONDS)."""
    drivers = [f"driver_{i}" for i in range(1, 101)]
    identical = [Call("eight-same", {"driver_ids": drivers, "max_per_driver": 30}, "identical")] * 8
    mixed = [
        Call(f"eight-{i}", {"driver_ids": drivers[i * 12 : i * 12 + 20], "max_per_driver": 30}, "overlapping")
        for i in range(8)
    ]
    for seed, planned in ((901, identical), (902, mixed)):
        # patience=1: each client keeps its first answer (a 409 too: it is an answer, with Retry-After).
        result = storm(stack, token, seed, "none", drivers=100, packages=3000, patience=1, planned=planned)
        print(describe(result))
        assert all(o.first_answer_s is not None and o.first_answer_s <= 60 for o in result.outcomes), describe(result)
        assert set(result.counts()) <= {200, 409}, describe(result)  # never a 503 with AWS healthy
        assert result.report.ok, result.report.problems
        if planned is identical:
            assert result.counts() == {200: 8}
            assert all(o.bodies == result.outcomes[0].bodies for o in result.outcomes)


@pytest.mark.parametrize("seed, fault", [(11, "kill-worker"), (12, "pause-aws"), (13, "none")])
def test_a_storm_with_faults_keeps_every_invariant(stack, token, seed, fault) -> None:
    result = storm(stack, token, seed, fault)
    print(describe(result))
    assert not result.problems, result.problems
    assert result.report.answers >= 1 and result.report.ok
