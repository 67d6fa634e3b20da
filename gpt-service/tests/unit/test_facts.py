from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gpt_service.domain.facts import compute_facts, spread, trend
from gpt_service.domain.loads import Load

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def load(
    i: int,
    price: float | None,
    miles: float | None = None,
    lane=("Dallas, TX", "Atlanta, GA"),
    portal: str = "jbhunt",
    currency: str = "USD",
    hours: float | None = None,
    **extra,
) -> Load:
    return Load(
        portal=portal,
        load_id=str(i),
        origin=lane[0],
        destination=lane[1],
        price=price,
        miles=miles,
        currency=currency,
        posted_at=None if hours is None else T0 + timedelta(hours=hours),
        **extra,
    )


def test_spread_of_nothing_is_none_and_of_values_is_rounded():
    assert spread([]) is None
    s = spread([3, 1, 2, 10])
    assert (s.count, s.min, s.median, s.max, s.mean) == (4, 1, 2.5, 10, 4)


def test_price_and_rate_per_mile_spread_count_only_comparable_loads():
    loads = [load(1, 1000, 500), load(2, 3000, 1000), load(3, None, 800), load(4, 900, 300, currency="CAD")]
    facts = compute_facts(loads)
    assert facts.currency == "USD" and facts.other_currency_count == 1
    assert (facts.priced_count, facts.unpriced_count, facts.miles_known_count) == (2, 1, 4)
    assert (facts.price.min, facts.price.max) == (1000, 3000)
    assert (facts.rate_per_mile.min, facts.rate_per_mile.max) == (2.0, 3.0)


def test_lanes_are_counted_busiest_first_and_round_trips_found():
    there, back = ("Dallas, TX", "Atlanta, GA"), ("Atlanta, GA", "Dallas, TX")
    other = ("Reno, NV", "Boise, ID")
    loads = [load(1, 1000, lane=there), load(2, 1200, lane=there), load(3, 900, lane=back), load(4, 800, lane=other)]
    facts = compute_facts(loads)
    assert facts.lane_count == 3
    assert [(lane.lane, lane.loads) for lane in facts.lanes][0] == ("Dallas, TX -> Atlanta, GA", 2)
    assert facts.round_trips == [("Atlanta, GA -> Dallas, TX", "Dallas, TX -> Atlanta, GA")]
    assert facts.origin_states == {"TX": 2, "GA": 1, "NV": 1}


def test_rising_rates_over_posting_time_are_an_up_trend():
    loads = [load(i, 1000 + 100 * i, 500, hours=i) for i in range(6)]
    found = trend(loads)
    assert found.basis == "rate_per_mile" and found.direction == "up"
    assert found.earlier_count == found.later_count == 3
    assert found.change_pct == round((2.8 - 2.2) / 2.2 * 100, 1)


def test_posting_order_not_input_order_drives_the_trend():
    loads = [load(i, 2000 - 100 * i, hours=-i) for i in range(6)]  # listed newest first, prices rising
    found = trend(loads)
    assert found.basis == "price" and found.direction == "up"


def test_small_changes_are_flat_and_too_few_loads_no_trend():
    assert trend([load(i, 1000 + i, hours=i) for i in range(4)]).direction == "flat"
    assert trend([load(i, 1000, hours=i) for i in range(3)]) is None
    assert trend([load(i, 1000) for i in range(10)]) is None  # no posting times


def test_facts_do_not_depend_on_input_order():
    loads = [
        load(i, 900 + 37 * i, 300 + i, hours=i % 5, portal="p" if i % 2 else "q", lane=("A, TX", f"B{i % 3}, OK"))
        for i in range(12)
    ]
    assert compute_facts(loads) == compute_facts(list(reversed(loads)))
