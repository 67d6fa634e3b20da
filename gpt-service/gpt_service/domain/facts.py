"""Facts computed from the loads: what the prompt states and what the fallback summary is made of.

Everything here is plain arithmetic on the request, so the same loads always give the same facts,
whether or not a model is reachable.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from .loads import Load

# A change smaller than this (in %) between the earlier and the later postings is called flat.
FLAT_THRESHOLD_PCT = 3.0
# A trend needs at least this many priced, timestamped loads, split into an earlier and a later half.
MIN_TREND_LOADS = 4
# A lane's own trend needs more loads: two against two on one lane is noise.
MIN_LANE_TREND_LOADS = 6
TOP_LANES = 20

TrendDirection = Literal["up", "down", "flat"]


class Spread(BaseModel):
    count: int
    min: float
    median: float
    max: float
    mean: float


class Trend(BaseModel):
    lane: str | None  # None: all loads
    basis: str  # "rate_per_mile" or "price"
    direction: TrendDirection
    change_pct: float
    earlier_median: float
    later_median: float
    earlier_count: int
    later_count: int
    window_start: datetime
    window_end: datetime


class LaneFacts(BaseModel):
    lane: str
    origin: str
    destination: str
    loads: int
    price: Spread | None = None
    rate_per_mile: Spread | None = None
    latest_posted_at: datetime | None = None


class Facts(BaseModel):
    load_count: int
    portals: dict[str, int]
    currency: str
    other_currency_count: int
    priced_count: int
    unpriced_count: int
    miles_known_count: int
    price: Spread | None
    rate_per_mile: Spread | None
    lane_count: int
    lanes: list[LaneFacts]  # busiest first, at most TOP_LANES
    origin_states: dict[str, int]
    destination_states: dict[str, int]
    equipment: dict[str, int]
    posted_from: datetime | None
    posted_to: datetime | None
    trend: Trend | None
    lane_trends: list[Trend]
    round_trips: list[tuple[str, str]]  # pairs of lanes posted in both directions


def spread(values: Iterable[float]) -> Spread | None:
    data = sorted(values)
    if not data:
        return None
    return Spread(
        count=len(data),
        min=round(data[0], 2),
        median=round(statistics.median(data), 2),
        max=round(data[-1], 2),
        mean=round(statistics.fmean(data), 2),
    )


def _state(place: str) -> str:
    _, _, state = place.rpartition(",")
    return state.strip() or "?"


def main_currency(loads: Sequence[Load]) -> str:
    counts = Counter(load.currency for load in loads if load.price is not None)
    if not counts:
        return "USD"
    # Ties go to the alphabetically first code, so the choice does not depend on input order.
    return min(counts, key=lambda code: (-counts[code], code))


def comparable(loads: Sequence[Load], currency: str) -> list[Load]:
    """Priced loads in the main currency: the only ones whose prices are compared."""
    return [load for load in loads if load.price is not None and load.currency == currency]


def prices(loads: Iterable[Load]) -> list[float]:
    return [price for load in loads if (price := load.price) is not None]


def rates_per_mile(loads: Iterable[Load]) -> list[float]:
    return [rate for load in loads if (rate := load.rate_per_mile) is not None]


def trend(loads: Sequence[Load], lane: str | None = None, minimum: int = MIN_TREND_LOADS) -> Trend | None:
    """Median rate (per mile when enough loads have miles, else price) of the later half of the
    postings against the earlier half; over priced loads."""
    timed = sorted(
        ((load.posted_at, load) for load in loads if load.posted_at is not None),
        key=lambda posting: (posting[0], posting[1].key),
    )
    by_rate = [(at, rate) for at, load in timed if (rate := load.rate_per_mile) is not None]
    by_price = [(at, price) for at, load in timed if (price := load.price) is not None]
    series: list[tuple[datetime, float]]
    if len(by_rate) >= minimum:
        basis, series = "rate_per_mile", by_rate
    elif len(by_price) >= minimum:
        basis, series = "price", by_price
    else:
        return None
    half = len(series) // 2
    earlier, later = series[:half], series[-half:]
    before = statistics.median(value for _, value in earlier)
    after = statistics.median(value for _, value in later)
    change = (after - before) / before * 100 if before else 0.0
    direction: TrendDirection = "flat" if abs(change) < FLAT_THRESHOLD_PCT else ("up" if change > 0 else "down")
    return Trend(
        lane=lane,
        basis=basis,
        direction=direction,
        change_pct=round(change, 1),
        earlier_median=round(before, 2),
        later_median=round(after, 2),
        earlier_count=len(earlier),
        later_count=len(later),
        window_start=series[0][0],
        window_end=series[-1][0],
    )


def _lane_facts(lane: str, loads: list[Load], currency: str) -> LaneFacts:
    priced = comparable(loads, currency)
    posted = [load.posted_at for load in loads if load.posted_at is not None]
    return LaneFacts(
        lane=lane,
        origin=loads[0].origin,
        destination=loads[0].destination,
        loads=len(loads),
        price=spread(prices(priced)),
        rate_per_mile=spread(rates_per_mile(priced)),
        latest_posted_at=max(posted) if posted else None,
    )


def group_by_lane(loads: Sequence[Load]) -> dict[str, list[Load]]:
    lanes: dict[str, list[Load]] = defaultdict(list)
    for load in loads:
        lanes[load.lane].append(load)
    return lanes


def _top(counter: Counter, limit: int = 10) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit])


def compute_facts(loads: Sequence[Load]) -> Facts:
    currency = main_currency(loads)
    priced = comparable(loads, currency)
    lanes = group_by_lane(loads)
    ordered = sorted(lanes, key=lambda lane: (-len(lanes[lane]), lane))
    lane_trends: list[Trend] = []
    for lane in ordered:  # busiest first, so the loop stops early
        if len(lanes[lane]) < MIN_LANE_TREND_LOADS or len(lane_trends) == 5:
            break
        if found := trend(comparable(lanes[lane], currency), lane, MIN_LANE_TREND_LOADS):
            lane_trends.append(found)
    lane_set = set(lanes)
    round_trips = sorted(
        {
            tuple(sorted((lane, f"{group[0].destination} -> {group[0].origin}")))
            for lane, group in lanes.items()
            if f"{group[0].destination} -> {group[0].origin}" in lane_set and group[0].destination != group[0].origin
        }
    )
    posted = [load.posted_at for load in loads if load.posted_at is not None]
    return Facts(
        load_count=len(loads),
        portals=_top(Counter(load.portal or "unnamed" for load in loads), limit=50),
        currency=currency,
        other_currency_count=sum(1 for load in loads if load.price is not None and load.currency != currency),
        priced_count=len(priced),
        unpriced_count=sum(1 for load in loads if load.price is None),
        miles_known_count=sum(1 for load in loads if load.miles),
        price=spread(prices(priced)),
        rate_per_mile=spread(rates_per_mile(priced)),
        lane_count=len(lanes),
        lanes=[_lane_facts(lane, lanes[lane], currency) for lane in ordered[:TOP_LANES]],
        origin_states=_top(Counter(_state(load.origin) for load in loads)),
        destination_states=_top(Counter(_state(load.destination) for load in loads)),
        equipment=_top(Counter(load.equipment or "unknown" for load in loads)),
        posted_from=min(posted) if posted else None,
        posted_to=max(posted) if posted else None,
        trend=trend(priced),
        lane_trends=lane_trends,
        round_trips=[(a, b) for a, b in round_trips][:5],
    )
