"""gpt-service's answer -> rows of loadboard.summaries."""

from datetime import UTC, datetime
from decimal import Decimal

from automation_service.domain.extracted_loads import Load, Place
from automation_service.domain.summaries import Summary, summary_rows


def _load(portal, load_id):
    return Load(
        portal=portal,
        portal_load_id=load_id,
        origin=Place(city="Dallas", state="TX"),
        destination=Place(city="Atlanta", state="GA"),
        price=Decimal("1800.00"),
        currency="USD",
        posted_at=datetime(2026, 11, 21, tzinfo=UTC),
        miles=780,
    )


def test_one_row_per_scored_load_plus_the_run_summary():
    loads = [_load("jbhunt", "JBH1"), _load("landstar", "LS1")]
    ids = {("jbhunt", "JBH1"): "id-1", ("landstar", "LS1"): "id-2"}
    summary = Summary.model_validate(
        {
            "summary": "Firm rates.",
            "insights": ["a", "b"],
            "model": "m",
            "degraded": True,
            "reason": "no_api_key",
            "price_trends": [
                {
                    "lane": "Dallas, TX -> Atlanta, GA",
                    "direction": "up",
                    "change_pct": 4.0,
                    "detail": "up 4 %",
                }
            ],
            "route_suggestions": [{"lane": "Dallas, TX -> Atlanta, GA", "reason": "best rate", "rate_per_mile": 2.3}],
            "notes": [
                {"portal": "jbhunt", "load_id": "JBH1", "score": 0.8, "note": "good"},
                {"portal": "landstar", "load_id": "LS1", "score": 1.7, "note": "great"},
                {"portal": "landstar", "load_id": "NOT-SENT", "score": 0.5, "note": "?"},
            ],
        }
    )
    rows = summary_rows(summary, loads, ids)
    assert rows[0] == {
        "load_id": None,
        "summary_text": "Firm rates.",
        "insights": ["a", "b"],
        "score": None,
        "model": "m",
        "degraded": True,
        "degraded_reason": "no_api_key",
    }
    assert [(r["load_id"], r["score"]) for r in rows[1:]] == [("id-1", 0.8), ("id-2", 1.0)]
    assert rows[1]["insights"] == ["Lane trend: up 4 %", "Route suggestion: best rate"]
