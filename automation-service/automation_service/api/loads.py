"""/loads: what the runs stored, and the loads with the best insights."""

from __future__ import annotations

from flask import Blueprint
from servicekit import endpoint

from ..domain.models import LoadList, LoadQuery, StoredLoad, TopInsight, TopInsights
from ..wiring import deps

blueprint = Blueprint("loads", __name__)
RANKING = (
    "gpt-service's per-load score (0..1, higher = more attractive), ties by rate per mile, then most recent posting"
)


@blueprint.get("/loads")
@endpoint(summary="Stored loads, most recently posted first", query=LoadQuery, response=LoadList, tags=["loads"])
def list_loads(query: LoadQuery):
    rows, total = deps().repository.list_loads(
        limit=query.limit,
        offset=query.offset,
        portal=query.portal,
        origin_state=query.origin_state,
        destination_state=query.destination_state,
    )
    return {
        "loads": [StoredLoad.model_validate(r).model_dump(mode="json") for r in rows],
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
    }


@blueprint.get("/loads/top-insights")
@endpoint(
    summary="The 5 loads with the best insights (db/queries/top_loads_by_insight.sql)",
    response=TopInsights,
    tags=["loads"],
)
def top_insights():
    rows = deps().repository.top_insights(5)
    return {"ranking": RANKING, "loads": [TopInsight.model_validate(r).model_dump(mode="json") for r in rows]}
