"""A score per load, 0..1, higher = more attractive to a carrier, from its rate against the market.

The rate per mile against the median of the batch is the main signal; without miles the price is
compared with its lane's median (the same distance), and failing that with the batch median, which
says little since distances differ, so it moves the score less. A load without a price scores low:
it has to be called before it can be judged.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from .facts import Facts, comparable, group_by_lane, prices
from .loads import Load

UNPRICED_SCORE = 0.2
FRESH_BONUS = 0.05


def _scaled(ratio: float, weight: float) -> float:
    # tanh keeps one outlier from pinning everything else to the middle.
    return 0.5 + weight * math.tanh(2.0 * (ratio - 1.0))


def _money(value: float, currency: str) -> str:
    return f"${value:,.0f}" if currency == "USD" else f"{value:,.0f} {currency}"


def _versus(value: float, median: float) -> str:
    pct = (value - median) / median * 100 if median else 0.0
    if abs(pct) < 1:
        return "at the median"
    return f"{abs(pct):.0f}% {'above' if pct > 0 else 'below'} the median"


def score_loads(loads: Sequence[Load], facts: Facts) -> dict[tuple[str, str], tuple[float, str]]:
    """``{(portal, load_id): (score, note)}`` for every load."""
    currency = facts.currency
    rpm_median = facts.rate_per_mile.median if facts.rate_per_mile else None
    price_median = facts.price.median if facts.price else None
    lane_medians: dict[str, float] = {}
    for lane, group in group_by_lane(loads).items():
        priced = prices(comparable(group, currency))
        if len(priced) >= 2:
            lane_medians[lane] = statistics.median(priced)
    midpoint = None
    if facts.posted_from and facts.posted_to:
        midpoint = facts.posted_from + (facts.posted_to - facts.posted_from) / 2

    scores: dict[tuple[str, str], tuple[float, str]] = {}
    for load in loads:
        rpm = load.rate_per_mile if load.currency == currency else None
        if load.price is None:
            score, note = UNPRICED_SCORE, "No posted rate: call for the price before planning it."
        elif load.currency != currency:
            score = 0.4
            note = f"Priced in {load.currency} ({load.price:,.0f}); not compared with {currency} loads."
        elif rpm is not None and rpm_median:
            score = _scaled(rpm / rpm_median, 0.45)
            note = f"${rpm:.2f}/mi, {_versus(rpm, rpm_median)} ${rpm_median:.2f}/mi."
        elif load.lane in lane_medians:
            median = lane_medians[load.lane]
            score = _scaled(load.price / median, 0.35)
            note = (
                f"{_money(load.price, currency)}, {_versus(load.price, median)} of its lane "
                f"({_money(median, currency)}); miles unknown."
            )
        elif price_median:
            score = _scaled(load.price / price_median, 0.2)
            note = (
                f"{_money(load.price, currency)}; miles unknown, so only loosely comparable "
                f"with the batch median {_money(price_median, currency)}."
            )
        else:  # pragma: no cover - a priced load in the main currency always gives a median
            score, note = 0.5, f"{_money(load.price, currency)}."
        if midpoint is not None and load.posted_at is not None and load.posted_at > midpoint:
            score += FRESH_BONUS
        scores[load.key] = (round(min(1.0, max(0.0, score)), 3), note)
    return scores
