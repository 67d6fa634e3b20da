"""Turning each portal's text into the one Load model."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from automation_service.domain.extracted_loads import (
    Load,
    NormalisationError,
    Place,
    most_recent,
    parse_int,
    parse_local_time,
    parse_place,
    parse_price,
)
from automation_service.domain.run_outcome import PortalResult, RunStatus, outcome


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$2,350.00", (Decimal("2350.00"), "USD")),
        ("2350", (Decimal("2350.00"), "USD")),
        ("USD 1,234.5", (Decimal("1234.50"), "USD")),
        ("Call", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
        ("$0.00", (None, None)),
    ],
)
def test_prices_in_every_format(text, expected):
    assert parse_price(text) == expected


@pytest.mark.parametrize(
    ("text", "city", "state"),
    [
        ("Dallas, TX", "Dallas", "TX"),
        ("SALT LAKE CITY, UT", "Salt Lake City", "UT"),
        ("ST. LOUIS, MO", "St. Louis", "MO"),
        ("  Kansas City ,mo ", "Kansas City", "MO"),
    ],
)
def test_places_are_city_and_state(text, city, state):
    assert parse_place(text) == Place(city=city, state=state)


@pytest.mark.parametrize("text", ["Dallas", "", "TX, Dallas 75001"])
def test_a_place_without_a_state_is_refused(text):
    with pytest.raises(NormalisationError):
        parse_place(text)


def test_central_time_with_am_pm_becomes_aware_utc_offset():
    moment = parse_local_time("11/21/2026 02:15 PM", ("%m/%d/%Y %I:%M %p",), "America/Chicago")
    assert moment == datetime(2026, 11, 21, 20, 15, tzinfo=UTC)  # CST is UTC-6 in November


def test_eastern_time_in_summer_uses_daylight_saving():
    moment = parse_local_time("21 Jul 2026 14:15 EDT", ("%d %b %Y %H:%M",), "America/New_York")
    assert moment == datetime(2026, 7, 21, 18, 15, tzinfo=UTC)


def test_blank_time_is_none_and_garbage_is_an_error():
    assert parse_local_time("  ", ("%d %b %Y %H:%M",), "America/New_York") is None
    with pytest.raises(NormalisationError):
        parse_local_time("tomorrow", ("%d %b %Y %H:%M",), "America/New_York")


def test_weights_and_miles():
    assert parse_int("42,000 lbs") == 42000
    assert parse_int("") is None
    assert parse_int(812) == 812


def _load(load_id: str, minutes_ago: int, price=None, miles=None) -> Load:
    return Load(
        portal="jbhunt",
        portal_load_id=load_id,
        origin=Place(city="Dallas", state="TX"),
        destination=Place(city="Atlanta", state="GA"),
        price=price,
        currency="USD" if price else None,
        posted_at=datetime(2026, 11, 21, 12, tzinfo=UTC) - timedelta(minutes=minutes_ago),
        miles=miles,
    )


def test_most_recent_sorts_by_posting_time_not_feed_order():
    loads = [_load("A", 30), _load("B", 5), _load("C", 90), _load("D", 10)]
    assert [x.portal_load_id for x in most_recent(loads, 3)] == ["B", "D", "A"]


def test_rate_per_mile_needs_price_and_miles():
    assert _load("A", 1, Decimal("1000.00"), 400).rate_per_mile == Decimal("2.50")
    assert _load("A", 1, None, 400).rate_per_mile is None
    assert _load("A", 1, Decimal("1000.00"), None).rate_per_mile is None


def test_run_outcome():
    ok, bad = PortalResult("jbhunt"), PortalResult("landstar", error="landstar: login refused")
    assert outcome([ok, PortalResult("landstar")], None) is RunStatus.SUCCEEDED
    assert outcome([ok, bad], None) is RunStatus.PARTIAL
    assert outcome([ok, PortalResult("landstar")], "summaries: gpt-service unreachable") is RunStatus.PARTIAL
    assert outcome([bad, PortalResult("jbhunt", error="x")], None) is RunStatus.FAILED
    assert outcome([], None) is RunStatus.FAILED
