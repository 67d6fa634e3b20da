from __future__ import annotations

import pytest
from gpt_service.domain.loads import Load, SummarizeRequest
from pydantic import ValidationError

BASE = {"portal": "jbhunt", "load_id": "A1", "origin": "Dallas, TX", "destination": "Atlanta, GA"}


def test_only_the_places_are_required():
    load = Load.model_validate(BASE)
    assert load.price is None and load.currency == "USD" and load.miles is None and load.rate_per_mile is None
    bare = Load.model_validate({"origin": "Dallas, TX", "destination": "Atlanta, GA"})
    assert bare.portal is None and bare.load_id is None


def test_loads_without_an_id_are_referred_to_by_position_and_never_duplicates():
    bare = {"origin": "Dallas, TX", "destination": "Atlanta, GA"}
    loads = SummarizeRequest.model_validate([BASE, bare, bare]).loads
    assert [load.ref for load in loads] == ["A1", "#2", "#3"]
    assert [load.position for load in loads] == [1, 2, 3]


def test_id_is_an_alias_and_integers_become_strings():
    load = Load.model_validate({**{k: v for k, v in BASE.items() if k != "load_id"}, "id": 42})
    assert load.load_id == "42"


def test_places_may_be_city_state_objects_and_are_normalised():
    load = Load.model_validate(
        {**BASE, "origin": {"city": "Kansas City", "state": "mo"}, "destination": "  Reno,   NV "}
    )
    assert load.origin == "Kansas City, MO" and load.destination == "Reno, NV"
    assert load.lane == "Kansas City, MO -> Reno, NV"


def test_numeric_strings_are_prices_and_currency_is_upper_cased():
    load = Load.model_validate({**BASE, "price": "2350.50", "currency": "cad", "miles": 500})
    assert load.price == 2350.5 and load.currency == "CAD" and load.rate_per_mile == pytest.approx(4.701)


@pytest.mark.parametrize(
    "field, value",
    [
        ("price", -1),
        ("price", "Call"),
        ("price", "NaN"),
        ("miles", 0),
        ("currency", "dollars"),
        ("posted_at", "2026-11-20T08:00:00"),
        ("eta", "tomorrow"),
        ("eta", 0),
        ("price", "1e5"),
        ("price", " 12"),
        ("origin", {"city": 5}),
        ("origin", {"city": "x" * 101}),
        ("origin", {"city": "Reno", "state": 7}),
        ("posted_at", 1764489600),
        ("load_id", True),
        ("load_id", ""),
        ("origin", {"state": "TX"}),
        ("origin", ""),
        ("weight_lbs", -5),
        ("price", True),
        ("miles", True),
        ("weight_lbs", False),
        ("portal", ""),
    ],
)
def test_bad_values_are_named(field, value):
    with pytest.raises(ValidationError) as caught:
        Load.model_validate({**BASE, field: value})
    assert caught.value.errors()[0]["loc"][0] == field


def test_a_request_is_an_array_or_an_object():
    assert len(SummarizeRequest.model_validate([BASE]).loads) == 1
    assert len(SummarizeRequest.model_validate({"loads": [BASE]}).loads) == 1
    with pytest.raises(ValidationError):
        SummarizeRequest.model_validate({"loads": [BASE], "extra": 1})


def test_the_same_load_id_on_two_portals_is_two_loads():
    request = SummarizeRequest.model_validate([BASE, {**BASE, "portal": "landstar"}])
    assert len(request.loads) == 2
