"""Properties of the maximum assignment on random days, continuous limits included, for both ways the flow is
computed (scipy's network of every pair, and the bitset augmenting paths used when the pairs are many): the
count equals an independent max-flow (networkx, package level, the rules read again), the answer is valid,
deterministic, and keeps the tie-break the README states."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
from dispatch_service.domain import matching
from dispatch_service.domain.generator import generate_day
from dispatch_service.domain.matching import DayTooLarge, classify, estimate_bytes, maximum_assignment
from dispatch_service.domain.models import Driver, Package, Rules
from dispatch_service.domain.rules import PackageTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REGIONS = ["north", "south", "east"]
HAZMAT = ["3", "8"]


def allowed(rules: Rules, p: Package) -> bool:
    """The rules as the README states them, written again independently of domain.rules."""
    return (
        (rules.regions is None or p.region in rules.regions)
        and (rules.max_weight is None or p.weight <= rules.max_weight)
        and (rules.temperature_control is not False or not p.perishable)
        and (rules.hazmat_classes is None or p.hazmat_class is None or p.hazmat_class in rules.hazmat_classes)
        and (rules.max_volume is None or p.volume <= rules.max_volume)
        and (rules.max_distance is None or p.distance <= rules.max_distance)
    )


def oracle(drivers: list[Driver], packages: list[Package], capacity: list[int]) -> int:
    graph = nx.DiGraph()
    graph.add_node("s")
    graph.add_node("t")
    for i, p in enumerate(packages):
        graph.add_edge("s", ("p", i), capacity=1)
        for d, driver in enumerate(drivers):
            if allowed(driver.rules, p):
                graph.add_edge(("p", i), ("d", d), capacity=1)
    for d, cap in enumerate(capacity):
        graph.add_edge(("d", d), "t", capacity=cap)
    return nx.maximum_flow_value(graph, "s", "t")


amount = st.one_of(st.sampled_from([5.0, 10.0, 20.0]), st.floats(0, 30, allow_nan=False).map(lambda x: round(x, 1)))
limit = st.one_of(st.none(), amount)
rules = st.builds(
    Rules,
    regions=st.one_of(st.none(), st.lists(st.sampled_from(REGIONS), max_size=3, unique=True)),
    max_weight=limit,
    temperature_control=st.one_of(st.none(), st.booleans()),
    hazmat_classes=st.one_of(st.none(), st.lists(st.sampled_from(HAZMAT), max_size=2, unique=True)),
    max_volume=limit,
    max_distance=limit,
)


@st.composite
def days(draw) -> tuple[list[Driver], list[Package], list[int]]:
    drivers = [Driver(driver_id=f"d{i}", rules=r) for i, r in enumerate(draw(st.lists(rules, min_size=1, max_size=6)))]
    count = draw(st.integers(0, 40))
    packages = [
        Package(
            package_id=f"p{i}",
            weight=draw(amount),
            volume=draw(amount),
            distance=draw(amount),
            region=draw(st.sampled_from(REGIONS)),
            perishable=draw(st.booleans()),
            hazmat_class=draw(st.sampled_from([None, None, *HAZMAT])),
            destination="x",
        )
        for i in range(count)
    ]
    capacity = draw(st.lists(st.integers(0, 8), min_size=len(drivers), max_size=len(drivers)))
    return drivers, packages, capacity


def solve(drivers, packages, capacity, available=None) -> list[list[int]]:
    classes = classify([d.rules for d in drivers], PackageTable.of(packages))
    return [a.tolist() for a in maximum_assignment(classes, capacity, available)]


@pytest.fixture(params=["network of every pair", "bitset augmenting paths"])
def way(request, monkeypatch) -> str:
    if request.param == "bitset augmenting paths":
        monkeypatch.setattr(matching, "FULL_GRAPH_PAIRS", 0)
    return request.param


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=days())
def test_the_count_is_the_maximum_and_the_answer_valid(way, day) -> None:
    drivers, packages, capacity = day
    result = solve(drivers, packages, capacity)
    flat = [i for chosen in result for i in chosen]
    assert len(flat) == len(set(flat)), "a package went to two drivers"
    for d, chosen in enumerate(result):
        assert len(chosen) <= capacity[d]
        assert all(allowed(drivers[d].rules, packages[i]) for i in chosen)
        assert chosen == sorted(chosen)
    assert len(flat) == oracle(drivers, packages, capacity)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=days(), data=st.data())
def test_deterministic_and_within_a_class_the_earliest_packages_are_placed(way, day, data) -> None:
    drivers, packages, capacity = day
    available = np.asarray(data.draw(st.lists(st.booleans(), min_size=len(packages), max_size=len(packages))), bool)
    result = solve(drivers, packages, capacity, available)
    assert result == solve(drivers, packages, capacity, available)
    placed = {i for chosen in result for i in chosen}
    assert placed <= set(np.flatnonzero(available).tolist())
    # A class: the available packages exactly the same drivers may carry (read independently of the code).
    by_class: dict[tuple[bool, ...], list[int]] = defaultdict(list)
    for i, p in enumerate(packages):
        if available[i]:
            by_class[tuple(allowed(d.rules, p) for d in drivers)].append(i)
    for members in by_class.values():
        flags = [i in placed for i in members]
        assert flags == sorted(flags, reverse=True), (
            f"a later package of a class placed before an earlier one: {members}"
        )


def test_on_days_of_continuous_limits_the_augmenting_paths_reach_the_maximum(monkeypatch) -> None:
    """Every driver with its own limits, capacity as tight as the packages: the greedy start falls short on most
    of these days and the augmenting paths (several phases, paths longer than one hop) close the gap."""
    monkeypatch.setattr(matching, "FULL_GRAPH_PAIRS", 0)
    augmented = 0
    for seed in range(8):
        day = generate_day(dt.date(2026, 11, 30), 30, 600, seed=seed, continuous_limits=True)
        capacity = [20] * 30
        stats = matching.MatchingStats()
        classes = classify([d.rules for d in day.drivers], PackageTable.of(day.packages))
        result = maximum_assignment(classes, capacity, stats=stats)
        assert stats.certified
        assert sum(len(r) for r in result) == oracle(day.drivers, day.packages, capacity), seed
        augmented += stats.augmentations > 0 and stats.phases > 1
    assert augmented >= 4


def test_a_day_beyond_the_memory_budget_is_refused_before_anything_large_is_built() -> None:
    drivers = [Driver(driver_id=f"d{i}", rules=Rules(max_weight=float(i))) for i in range(200)]
    packages = [
        Package(package_id=f"p{i}", weight=i % 199 + 0.5, volume=1, distance=1, region="north", destination="x")
        for i in range(400)
    ]
    table = PackageTable.of(packages)
    with pytest.raises(DayTooLarge) as refused:
        classify([d.rules for d in drivers], table, memory_budget=1000)
    assert refused.value.budget == 1000 and refused.value.needed == estimate_bytes(199, 200, 400)
    assert classify([d.rules for d in drivers], table, memory_budget=estimate_bytes(199, 200, 400)).count == 199
