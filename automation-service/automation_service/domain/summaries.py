"""gpt-service's answer, and how it becomes rows of loadboard.summaries."""

from __future__ import annotations

from pydantic import BaseModel

from .extracted_loads import Load


class LoadNote(BaseModel):
    portal: str
    load_id: str
    score: float
    note: str


class PriceTrend(BaseModel):
    lane: str | None = None
    direction: str
    change_pct: float | None = None
    detail: str


class RouteSuggestion(BaseModel):
    lane: str
    reason: str
    rate_per_mile: float | None = None


class Summary(BaseModel):
    summary: str
    insights: list[str]
    price_trends: list[PriceTrend] = []
    route_suggestions: list[RouteSuggestion] = []
    notes: list[LoadNote] = []
    model: str
    degraded: bool = False
    reason: str | None = None


def lane_of(load: Load) -> str:
    return f"{load.origin.city}, {load.origin.state} -> {load.destination.city}, {load.destination.state}"


def summary_rows(summary: Summary, loads: list[Load], load_ids: dict[tuple[str, str], str]) -> list[dict]:
    """One row per load gpt-service scored, plus one for the run (load_id None).

    A load's summary text is its note; its insights are what the answer says about its lane (trend,
    suggestion), so a dispatcher reading one load sees the context of its score.
    """
    by_key = {(load.portal, load.portal_load_id): load for load in loads}
    trends = {t.lane: t for t in summary.price_trends if t.lane}
    suggestions = {s.lane: s for s in summary.route_suggestions}
    common = {"model": summary.model, "degraded": summary.degraded, "degraded_reason": summary.reason}
    rows = [
        {
            "load_id": None,
            "summary_text": summary.summary,
            "insights": list(summary.insights),
            "score": None,
            **common,
        }
    ]
    for note in summary.notes:
        key = (note.portal, str(note.load_id))
        if key not in load_ids or key not in by_key:
            continue  # a note about a load we did not send: ignore rather than guess
        lane = lane_of(by_key[key])
        insights = []
        if lane in trends:
            insights.append(f"Lane trend: {trends[lane].detail}")
        if lane in suggestions:
            insights.append(f"Route suggestion: {suggestions[lane].reason}")
        rows.append(
            {
                "load_id": load_ids[key],
                "summary_text": note.note,
                "insights": insights,
                "score": round(min(max(note.score, 0.0), 1.0), 3),
                **common,
            }
        )
    return rows
