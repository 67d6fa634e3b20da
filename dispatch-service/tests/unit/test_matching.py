"""The assignment is a maximum one: against exhaustive search on small days and an independent max-flow
(networkx, on the package-level graph, with its own reading of the rules) on larger ones, including days
built so that first-fit leaves packages behind."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import networkx as nx
import numpy as np
import pytest
from dispatch_service.domain.generator import generate_day
from dispatch_service.domain.matching import classify, first_fit, maximum_assignment
from dispatch_service.domain.models import Driver, Package, Rules
from dispatch_service.domain.rules import PackageTable
from dispatch_support import package


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


def solve(drivers: list[Driver], packages: list[Package], capacity: list[int]) -> list[list[int]]:
    classes = classify([d.rules for d in drivers], PackageTable.of(packages))
    return [a.tolist() for a in maximum_assignment(classes, capacity)]


def check_valid(drivers, packages, capacity, result) -> int:
    flat = [i for chosen in result for i in chosen]
    assert len(flat) == len(set(flat)), "a package went to two drivers"
    for d, chosen in enumerate(result):
        assert len(chosen) <= capacity[d]
        assert all(allowed(drivers[d].rules, packages[i]) for i in chosen)
    return len(flat)


def exhaustive(drivers, packages, capacity) -> int:
    options = [[None] + [d for d in range(len(drivers)) if allowed(drivers[d].rules, p)] for p in packages]
    best = 0
    for choice in itertools.product(*options):
        loads = [0] * len(drivers)
        for d in choice:
            if d is not None:
                loads[d] += 1
        if all(load <= cap for load, cap in zip(loads, capacity, strict=True)):
            best = max(best, sum(d is not None for d in choice))
    return best


def oracle(drivers, packages, capacity) -> int:
    graph = nx.DiGraph()
    for i, p in enumerate(packages):
        graph.add_edge("s", ("p", i), capacity=1)
        for d, driver in enumerate(drivers):
            if allowed(driver.rules, p):
                graph.add_edge(("p", i), ("d", d), capacity=1)
    for d, cap in enumerate(capacity):
        graph.add_edge(("d", d), "t", capacity=cap)
    return nx.maximum_flow_value(graph, "s", "t") if "s" in graph and "t" in graph else 0


def random_driver(rng: random.Random, n: int) -> Driver:
    rules = {}
    if rng.random() < 0.5:
        rules["regions"] = rng.sample(["north", "south", "east"], rng.randint(1, 2))
    if rng.random() < 0.5:
        rules["max_weight"] = rng.choice([5.0, 10.0, 20.0])
    if rng.random() < 0.4:
        rules["hazmat_classes"] = rng.sample(["3", "8"], rng.randint(0, 1))
    if rng.random() < 0.4:
        rules["temperature_control"] = rng.random() < 0.5
    return Driver(driver_id=f"d{n}", rules=Rules(**rules))


def random_package(rng: random.Random, n: int) -> Package:
    return Package.model_validate(
        package(
            f"p{n}",
            region=rng.choice(["north", "south", "east"]),
            weight=rng.choice([3.0, 5.0, 10.0, 15.0, 25.0]),
            hazmat_class=rng.choice([None, None, "3", "8"]),
            perishable=rng.random() < 0.3,
        )
    )


@pytest.mark.parametrize("seed", range(40))
def test_maximum_on_small_days_equals_exhaustive_search(seed):
    rng = random.Random(seed)
    drivers = [random_driver(rng, i) for i in range(rng.randint(1, 3))]
    packages = [random_package(rng, i) for i in range(rng.randint(0, 7))]
    capacity = [rng.randint(0, 3) for _ in drivers]
    result = solve(drivers, packages, capacity)
    assert check_valid(drivers, packages, capacity, result) == exhaustive(drivers, packages, capacity)


@pytest.mark.parametrize("seed", range(6))
def test_maximum_on_larger_days_equals_an_independent_max_flow(seed):
    rng = random.Random(1000 + seed)
    drivers = [random_driver(rng, i) for i in range(25)]
    packages = [random_package(rng, i) for i in range(400)]
    capacity = [rng.randint(5, 20) for _ in drivers]
    result = solve(drivers, packages, capacity)
    assert check_valid(drivers, packages, capacity, result) == oracle(drivers, packages, capacity)


def test_generated_day_matches_the_oracle():
    manifest = generate_day(dt.date(2026, 11, 30), 30, 600, seed=3)
    capacity = [20] * 30
    result = solve(manifest.drivers, manifest.packages, capacity)
    assert check_valid(manifest.drivers, manifest.packages, capacity, result) == oracle(
        manifest.drivers, manifest.packages, capacity
    )


def greedy_trap(copies: int) -> tuple[list[Driver], list[Package], list[int]]:
    """Flexible drivers come first and take the hazmat packages only the specialists could carry."""
    drivers = [Driver(driver_id=f"any{i}") for i in range(copies)] + [
        Driver(driver_id=f"hazmat{i}", rules=Rules(regions=["north"])) for i in range(copies)
    ]
    packages = [Package.model_validate(package(f"n{i}", region="north")) for i in range(copies * 4)] + [
        Package.model_validate(package(f"s{i}", region="south")) for i in range(copies * 4)
    ]
    return drivers, packages, [4] * (2 * copies)


@pytest.mark.parametrize("copies", [1, 5, 40])
def test_days_where_first_fit_fails_are_solved_to_the_maximum(copies):
    drivers, packages, capacity = greedy_trap(copies)
    classes = classify([d.rules for d in drivers], PackageTable.of(packages))
    greedy = sum(len(a) for a in first_fit(classes, capacity))
    best = check_valid(drivers, packages, capacity, solve(drivers, packages, capacity))
    assert best == oracle(drivers, packages, capacity) == 8 * copies
    assert greedy == 4 * copies  # the flexible drivers took the north packages; the south ones stay behind


def test_ties_are_broken_the_same_way_every_time_in_manifest_and_request_order():
    drivers = [Driver(driver_id="a"), Driver(driver_id="b")]
    packages = [Package.model_validate(package(f"p{i}")) for i in range(5)]
    first = solve(drivers, packages, [2, 2])
    assert first == solve(drivers, packages, [2, 2]) == [[0, 1], [2, 3]]


def test_packages_already_taken_are_left_out():
    drivers = [Driver(driver_id="a")]
    packages = [Package.model_validate(package(f"p{i}")) for i in range(4)]
    classes = classify([d.rules for d in drivers], PackageTable.of(packages))
    available = np.array([False, True, False, True])
    assert [a.tolist() for a in maximum_assignment(classes, [10], available)] == [[1, 3]]


def test_packages_nobody_may_carry_and_drivers_without_capacity():
    drivers = [Driver(driver_id="a", rules=Rules(max_weight=1)), Driver(driver_id="b")]
    packages = [Package.model_validate(package("heavy", weight=50))]
    assert solve(drivers, packages, [5, 0]) == [[], []]
    assert solve(drivers, [], [5, 5]) == [[], []]
