"""Grams vs units from the JSON type, and the exact arithmetic of required ingredients."""

from decimal import Decimal

import pytest
from bakery_service.domain.amounts import Amount, parse_ingredients, required_ingredients, sum_ingredients
from servicekit.domain_errors import Conflict, Invalid

RECIPE = {"chocolate": 33.5, "butter": 16.5, "flour": 8.5, "sugar": 16.5, "eggs": 1}


def test_the_briefs_order_exactly() -> None:
    total = required_ingredients(
        parse_ingredients(RECIPE, "ingredients"), 4, 2, parse_ingredients({"peanuts": 10}, "x")
    )
    assert {name: (a.value, a.unit) for name, a in total.items()} == {
        "chocolate": (Decimal("268.0"), "g"),
        "butter": (Decimal("132.0"), "g"),
        "flour": (Decimal("68.0"), "g"),
        "sugar": (Decimal("132.0"), "g"),
        "eggs": (Decimal("8"), "unit"),
        "peanuts": (Decimal("10"), "unit"),
    }
    assert [a.text() for a in total.values()] == ["268 g", "132 g", "68 g", "132 g", "8", "10"]
    assert [a.as_json() for a in total.values()] == [268.0, 132.0, 68.0, 132.0, 8, 10]
    assert isinstance(total["chocolate"].as_json(), float) and isinstance(total["eggs"].as_json(), int)


def test_the_json_type_is_the_unit() -> None:
    assert Amount.from_json(8.0, "x") == Amount(Decimal("8.0"), "g")
    assert Amount.from_json(8, "x") == Amount(Decimal("8"), "unit")


def test_float_noise_never_reaches_the_sums() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in floats; here it is 0.3 exactly.
    total = required_ingredients(parse_ingredients({"salt": 0.1}, "r"), 1, 1, parse_ingredients({"salt": 0.2}, "e"))
    assert total["salt"].value == Decimal("0.3") and total["salt"].text() == "0.3 g"
    assert Amount.from_json(0.001, "x").times(3).text() == "0.003 g"


def test_extras_are_added_once_to_the_recipe_ingredient_of_the_same_name() -> None:
    total = required_ingredients(
        parse_ingredients({"Sugar": 10.0}, "r"), 2, 3, parse_ingredients({" SUGAR ": 5.5}, "e")
    )
    assert total == {"sugar": Amount(Decimal("65.5"), "g")}


@pytest.mark.parametrize(
    "raw",
    [0, -1, 0.0, -2.5, True, "12", None, float("nan"), float("inf"), 1.0001, 100_001, 100_000.5],
)
def test_amounts_that_are_refused(raw) -> None:
    with pytest.raises(Invalid):
        Amount.from_json(raw, "ingredients.x")


def test_a_grams_extra_cannot_be_added_to_a_unit_count() -> None:
    with pytest.raises(Conflict, match="grams"):
        required_ingredients(parse_ingredients({"eggs": 1}, "r"), 1, 1, parse_ingredients({"eggs": 10.0}, "e"))


def test_two_spellings_of_one_ingredient_are_refused() -> None:
    with pytest.raises(Invalid, match="twice"):
        parse_ingredients({"Flour": 1.0, "flour": 2.0}, "ingredients")


def test_the_daily_sum_adds_by_name_and_unit() -> None:
    a = {"flour": Amount(Decimal("68.0"), "g"), "eggs": Amount(Decimal("8"), "unit")}
    b = {"flour": Amount(Decimal("8.5"), "g"), "eggs": Amount(Decimal("50.0"), "g")}
    assert sum_ingredients([a, b]) == [
        ("eggs", Amount(Decimal("50.0"), "g")),
        ("eggs", Amount(Decimal("8"), "unit")),
        ("flour", Amount(Decimal("76.5"), "g")),
    ]


def test_binary_noise_around_a_milligram_is_that_milligram() -> None:
    assert Amount.from_json(1001 * 0.001, "x").value == Decimal("1.001")
    assert Amount.from_json(0.1 + 0.2, "x").text() == "0.3 g"
    with pytest.raises(Invalid, match="milligram"):
        Amount.from_json(0.0004, "x")
    with pytest.raises(Invalid):
        Amount.from_json(1e300, "x")
