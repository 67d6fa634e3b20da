"""Eligibility: each rule alone, all together, and a driver without rules."""

from __future__ import annotations

import pytest
from dispatch_service.domain.models import Package, Rules
from dispatch_service.domain.rules import PackageTable, eligible_mask, may_carry
from dispatch_support import package


def pkg(**overrides) -> Package:
    return Package.model_validate(package("p", **overrides))


@pytest.mark.parametrize(
    "rules, accepted, refused",
    [
        ({"regions": ["north", "east"]}, {"region": "east"}, {"region": "south"}),
        ({"regions": []}, None, {"region": "north"}),
        ({"max_weight": 10.0}, {"weight": 10.0}, {"weight": 10.01}),
        ({"max_volume": 20.0}, {"volume": 20.0}, {"volume": 20.5}),
        ({"max_distance": 15.0}, {"distance": 15.0}, {"distance": 15.1}),
        ({"temperature_control": False}, {"perishable": False}, {"perishable": True}),
        ({"temperature_control": True}, {"perishable": True}, None),
        ({"hazmat_classes": ["3"]}, {"hazmat_class": "3"}, {"hazmat_class": "2"}),
        ({"hazmat_classes": []}, {"hazmat_class": None}, {"hazmat_class": "3"}),
    ],
)
def test_each_rule_alone_with_inclusive_limits(rules, accepted, refused):
    driver = Rules(**rules)
    if accepted is not None:
        assert may_carry(driver, pkg(**accepted))
    if refused is not None:
        assert not may_carry(driver, pkg(**refused))


def test_a_driver_without_rules_takes_anything():
    anything = [pkg(weight=900, volume=3000, distance=299, perishable=True, hazmat_class="1", region="harbour")]
    assert may_carry(Rules(), anything[0])
    assert eligible_mask(Rules(), PackageTable.of(anything)).all()


def test_a_null_hazmat_class_passes_every_hazmat_rule():
    assert may_carry(Rules(hazmat_classes=[]), pkg(hazmat_class=None))
    assert may_carry(Rules(hazmat_classes=["9"]), pkg(hazmat_class=None))


def test_every_rule_must_hold_together():
    rules = Rules(
        regions=["north"],
        max_weight=50,
        temperature_control=False,
        hazmat_classes=["3"],
        max_volume=100,
        max_distance=60,
    )
    fits = {"region": "north", "weight": 50, "perishable": False, "hazmat_class": "3", "volume": 100, "distance": 60}
    assert may_carry(rules, pkg(**fits))
    for breaks in (
        {"region": "south"},
        {"weight": 51},
        {"perishable": True},
        {"hazmat_class": "1"},
        {"volume": 101},
        {"distance": 61},
    ):
        assert not may_carry(rules, pkg(**{**fits, **breaks})), breaks


def test_the_column_check_agrees_with_the_single_check():
    packages = [
        pkg(weight=w, region=r, hazmat_class=h, perishable=p)
        for w in (1, 30, 80)
        for r in ("north", "west")
        for h in (None, "3")
        for p in (False, True)
    ]
    rules = Rules(regions=["west"], max_weight=30, hazmat_classes=["3"], temperature_control=False)
    mask = eligible_mask(rules, PackageTable.of(packages))
    assert mask.tolist() == [may_carry(rules, p) for p in packages]
    assert mask.any() and not mask.all()
