"""/loads: what the runs stored, and the loads with the best insights."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from servicekit import endpoint

from ..domain.models import LoadList, LoadQuery, TopInsights
from ..usecases.read_loads import list_loads as stored_loads
from ..usecases.read_loads import top_insights as best_insights
from ..wiring import deps

blueprint = Blueprint("loads", __name__)
RANKING = (
    "gpt-service's per-load score (0..1, higher = more attractive), ties by rate per mile, then most recent posting"
)


@blueprint.get("/loads")
@endpoint(summary="Stored loads, most recently posted first", query=LoadQuery, response=LoadList, tags=["loads"])
def list_loads(query: LoadQuery) -> dict[str, Any]:
    page: dict[str, Any] = stored_loads(deps().uow(), query).model_dump(mode="json")
    return page


@blueprint.get("/loads/top-insights")
@endpoint(
    summary="The 5 loads with the best insights (db/queries/top_loads_by_insight.sql)",
    response=TopInsights,
    tags=["loads"],
)
def top_insights() -> dict[str, Any]:
    return {"ranking": RANKING, "loads": [x.model_dump(mode="json") for x in best_insights(deps().uow())]}
