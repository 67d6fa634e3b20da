"""The answer of POST /summarize-loads: from the model when it can, else computed from the facts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from .answers import (
    MAX_INSIGHTS,
    MAX_ROUTES,
    MAX_TRENDS,
    FallbackReason,
    LoadNote,
    ModelAnswer,
    PriceTrend,
    RouteSuggestion,
    SummaryResponse,
)
from .facts import Facts, Trend
from .loads import Load
from .scoring import score_loads

DETERMINISTIC_MODEL = "deterministic"


class UnusableAnswer(ValueError):
    """The model answered in the schema but said nothing usable."""


def _money(value: float, currency: str) -> str:
    return f"${value:,.0f}" if currency == "USD" else f"{value:,.0f} {currency}"


def _trend_detail(trend: Trend, currency: str) -> str:
    if trend.basis == "rate_per_mile":
        before, after = f"${trend.earlier_median:.2f}/mi", f"${trend.later_median:.2f}/mi"
    else:
        before, after = _money(trend.earlier_median, currency), _money(trend.later_median, currency)
    start, end = trend.window_start.astimezone(UTC), trend.window_end.astimezone(UTC)
    verb = {"up": "rose", "down": "fell", "flat": "held"}[trend.direction]
    return (
        f"Median {trend.basis.replace('_', ' ')} {verb} {abs(trend.change_pct):.1f}% from {before} "
        f"(earliest {trend.earlier_count}) to {after} (latest {trend.later_count}), "
        f"postings {start:%b %d %H:%M} to {end:%b %d %H:%M} UTC."
    )


def fallback_trends(facts: Facts) -> list[PriceTrend]:
    trends = [t for t in [facts.trend, *facts.lane_trends] if t is not None][:MAX_TRENDS]
    if not trends:
        return [
            PriceTrend(
                lane=None,
                direction="unknown",
                change_pct=None,
                detail="Too few priced loads with posting times to tell a trend.",
            )
        ]
    return [
        PriceTrend(lane=t.lane, direction=t.direction, change_pct=t.change_pct, detail=_trend_detail(t, facts.currency))
        for t in trends
    ]


def fallback_routes(facts: Facts) -> list[RouteSuggestion]:
    routes: list[RouteSuggestion] = []
    best = sorted(
        ((lane, rate) for lane in facts.lanes if (rate := lane.rate_per_mile)),
        # A lane seen more than once is a better bet than one lucky posting.
        key=lambda rated: (rated[1].count < 2, -rated[1].median, rated[0].lane),
    )
    for lane, rate in best[:3]:
        routes.append(
            RouteSuggestion(
                lane=lane.lane,
                rate_per_mile=rate.median,
                reason=f"Best median rate: ${rate.median:.2f}/mi over {lane.loads} load(s).",
            )
        )
    for there, back in facts.round_trips:
        if len(routes) >= MAX_ROUTES:
            break
        routes.append(
            RouteSuggestion(
                lane=f"{there} / {back}",
                rate_per_mile=None,
                reason="Posted in both directions: a round trip with few empty miles.",
            )
        )
    if not routes and facts.lanes:
        busiest = facts.lanes[0]
        reason = f"Busiest lane ({busiest.loads} load(s)); add miles to compare rates."
        routes.append(RouteSuggestion(lane=busiest.lane, rate_per_mile=None, reason=reason))
    return routes[:MAX_ROUTES]


def fallback_insights(facts: Facts) -> list[str]:
    cur = facts.currency
    insights = []
    if facts.price:
        insights.append(
            f"Prices of {facts.priced_count} priced loads span {_money(facts.price.min, cur)} to "
            f"{_money(facts.price.max, cur)} (median {_money(facts.price.median, cur)})."
        )
    if facts.rate_per_mile:
        rpm = facts.rate_per_mile
        insights.append(
            f"Rate per mile over {rpm.count} loads with miles: ${rpm.min:.2f} to ${rpm.max:.2f} "
            f"(median ${rpm.median:.2f})."
        )
    if facts.lanes:
        busiest = facts.lanes[0]
        insights.append(
            f"Busiest lane: {busiest.lane} with {busiest.loads} of {facts.load_count} loads "
            f"({facts.lane_count} lanes in all)."
        )
    if facts.trend:
        insights.append(_trend_detail(facts.trend, cur))
    if facts.unpriced_count:
        insights.append(f"Without a posted price: {facts.unpriced_count} of {facts.load_count} loads.")
    if facts.other_currency_count:
        insights.append(
            f"{facts.other_currency_count} loads are priced in another currency than {cur} "
            "and are left out of the price figures."
        )
    if len(facts.equipment) > 1 or "unknown" not in facts.equipment:
        mix = ", ".join(f"{name} {count}" for name, count in facts.equipment.items())
        insights.append(f"Equipment: {mix}.")
    return insights[:MAX_INSIGHTS] or [f"{facts.load_count} loads received."]


def fallback_summary_text(facts: Facts) -> str:
    portals = ", ".join(f"{name} {count}" for name, count in facts.portals.items())
    parts = [f"{facts.load_count} loads from {len(facts.portals)} portal(s) ({portals}) on {facts.lane_count} lane(s)."]
    if facts.price:
        parts.append(
            f"{facts.priced_count} are priced in {facts.currency}, median "
            f"{_money(facts.price.median, facts.currency)}"
            + (f" or ${facts.rate_per_mile.median:.2f}/mi." if facts.rate_per_mile else ".")
        )
    else:
        parts.append("None has a comparable posted price.")
    if facts.trend:
        verb = {"up": "rising", "down": "falling", "flat": "steady"}[facts.trend.direction]
        parts.append(f"Rates are {verb} ({facts.trend.change_pct:+.1f}% later against earlier postings).")
    if facts.lanes:
        parts.append(f"Busiest lane: {facts.lanes[0].lane} ({facts.lanes[0].loads}).")
    return " ".join(parts)


def _notes(loads: Sequence[Load], facts: Facts, overrides: dict[tuple[str, str], tuple[float, str]]) -> list[LoadNote]:
    computed = score_loads(loads, facts)
    return [
        LoadNote(portal=load.portal, load_id=load.load_id, position=load.position, score=score, note=text)
        for load in loads
        for score, text in [overrides.get(load.key) or computed[load.key]]
    ]


def fallback_response(loads: Sequence[Load], facts: Facts, reason: FallbackReason) -> SummaryResponse:
    return SummaryResponse(
        summary=fallback_summary_text(facts),
        insights=fallback_insights(facts),
        price_trends=fallback_trends(facts),
        route_suggestions=fallback_routes(facts),
        notes=_notes(loads, facts, {}),
        model=DETERMINISTIC_MODEL,
        degraded=True,
        reason=reason,
        facts=facts,
    )


def model_response(loads: Sequence[Load], facts: Facts, answer: ModelAnswer, model: str) -> SummaryResponse:
    """Keep the model's text; notes on loads it was not shown (or invented) give way to computed ones."""
    if not answer.summary.strip() or not any(text.strip() for text in answer.insights):
        raise UnusableAnswer("the model returned an empty summary")
    keys = {load.key for load in loads}
    by_id: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        by_id.setdefault(key[1], []).append(key)
    overrides: dict[tuple[str, str], tuple[float, str]] = {}
    for note in answer.notes:
        key = (note.portal, note.load_id)
        if key not in keys and len(by_id.get(note.load_id, [])) == 1:
            key = by_id[note.load_id][0]  # the right load, with the portal misspelt (or absent)
        if key in keys and note.note.strip():
            overrides[key] = (note.score, note.note)
    return SummaryResponse(
        summary=answer.summary.strip(),
        insights=[text.strip() for text in answer.insights if text.strip()],
        price_trends=answer.price_trends,
        route_suggestions=answer.route_suggestions,
        notes=_notes(loads, facts, overrides),
        model=model,
        degraded=False,
        reason=None,
        facts=facts,
    )


def in_request_order(response: SummaryResponse, loads: Sequence[Load]) -> SummaryResponse:
    """A cached answer may come from the same loads sent in another order: notes follow this request."""
    by_key = {note.key: note for note in response.notes}
    response.notes = [
        by_key[load.key].model_copy(update={"position": load.position}) for load in loads if load.key in by_key
    ]
    return response
