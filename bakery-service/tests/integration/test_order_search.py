"""GET /orders as pages found by customer, state and day placed, on a real Postgres: every page and filter
checked against a plain Python reading of the same orders, and bad parameters refused as problem+json."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE

pytestmark = pytest.mark.integration

CUSTOMERS = ["Mr. Cakelover", "Ms. Delicious", "100%_Sure", "100x Sure", "Anne-Marie O'Neil", "ÉLODIE"]
STATES = ["placed", "ready", "cancelled"]
# Placing times spread over a few days, some close to midnight UTC, so the day bounds and offsets matter.
BASE = datetime(2026, 11, 28, 22, 30, tzinfo=UTC)
PLACED_AT = [BASE + timedelta(hours=5 * i + (i % 3)) for i in range(24)]


@pytest.fixture()
def placed(client, bakery_db) -> list[dict]:
    """24 orders of six customers in three states, with known placing times; newest (highest id) first."""
    assert client.post("/cakes", json=CHOCOLATE_CAKE).status_code == 201
    made = []
    for i, at in enumerate(PLACED_AT):
        order = client.post("/orders", json={**BRIEF_ORDER, "customer": CUSTOMERS[i % len(CUSTOMERS)]}).get_json()
        state = STATES[(i * 7) % 3]
        if state == "ready":
            assert client.post(f"/orders/{order['id']}/ready").status_code == 200
        elif state == "cancelled":
            assert client.delete(f"/orders/{order['id']}").status_code == 200
        made.append({"id": order["id"], "customer": order["customer"], "state": state, "at": at})
    engine = create_engine(bakery_db)
    with engine.begin() as conn:
        for order in made:
            conn.execute(text("UPDATE bakery.orders SET created_at = :at WHERE id = :id"), order)
    engine.dispose()
    return sorted(made, key=lambda o: -o["id"])


def expected(orders: list[dict], *, customer=None, state=None, placed_from=None, placed_to=None, offset_min=0):
    """The same filters read plainly in Python: the reference the SQL is held to."""
    shift = timedelta(minutes=offset_min)

    def keeps(order: dict) -> bool:
        day = (order["at"] + shift).date()  # the order's day where the days begin at this offset
        return (
            (not customer or customer.strip().casefold() in order["customer"].casefold())
            and (not state or order["state"] == state)
            and (not placed_from or day >= placed_from)
            and (not placed_to or day <= placed_to)
        )

    return [o["id"] for o in orders if keeps(o)]


def test_pages_cover_every_order_once_newest_first(client, placed) -> None:
    seen: list[int] = []
    for offset in (0, 10, 20):
        page = client.get(f"/orders?limit=10&offset={offset}").get_json()
        assert page["total"] == 24 and page["limit"] == 10 and page["offset"] == offset
        seen += [o["id"] for o in page["items"]]
    assert seen == [o["id"] for o in placed]
    past_the_end = client.get("/orders?limit=10&offset=30").get_json()
    assert past_the_end == {"items": [], "total": 24, "limit": 10, "offset": 30}


def test_search_by_customer_is_any_case_and_takes_wildcards_literally(client, placed) -> None:
    def customers(query: str) -> set[str]:
        return {o["customer"] for o in client.get(f"/orders?{query}").get_json()["items"]}

    assert customers("customer=CAKE") == {"Mr. Cakelover"}
    assert customers("customer=100%25_") == {"100%_Sure"}  # % and _ are letters here, not patterns
    assert customers("customer=100_") == set()
    assert customers("customer=o%27neil") == {"Anne-Marie O'Neil"}
    assert customers("customer=%C3%A9lodie") == {"ÉLODIE"}
    assert customers("customer=%20%20") == set(CUSTOMERS)  # a blank search filters nothing


def test_days_begin_at_the_given_utc_offset(client, placed) -> None:
    first = placed[-1]  # placed 2026-11-28 22:30 UTC: the 28th in UTC, the 29th at UTC+2, the 28th at UTC-5
    assert first["at"] == BASE

    def ids(query: str) -> list[int]:
        return [o["id"] for o in client.get(f"/orders?limit=500&{query}").get_json()["items"]]

    assert first["id"] in ids("placed_to=2026-11-28")
    assert first["id"] not in ids("placed_to=2026-11-28&utc_offset_minutes=120")
    assert first["id"] in ids("placed_from=2026-11-29&placed_to=2026-11-29&utc_offset_minutes=120")
    assert first["id"] in ids("placed_from=2026-11-28&placed_to=2026-11-28&utc_offset_minutes=-300")
    assert ids("placed_from=2026-12-02&placed_to=2026-12-01") == []  # an empty range, not an error


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    customer=st.none() | st.sampled_from(["cake", "SURE", "100%", "_", " e", "o'n", "é", "zz"]),
    state=st.none() | st.sampled_from(STATES),
    placed_from=st.none() | st.dates(date(2026, 11, 27), date(2026, 12, 4)),
    placed_to=st.none() | st.dates(date(2026, 11, 27), date(2026, 12, 4)),
    offset_min=st.sampled_from([0, 60, -300, 330, 840, -720]),
    limit=st.integers(1, 7),
)
def test_every_page_of_every_search_matches_the_reference(
    client, placed, customer, state, placed_from, placed_to, offset_min, limit
) -> None:
    params = {"utc_offset_minutes": offset_min, "limit": limit}
    params.update({k: v for k, v in [("customer", customer), ("state", state)] if v})
    params.update({k: v.isoformat() for k, v in [("placed_from", placed_from), ("placed_to", placed_to)] if v})
    want = expected(
        placed,
        customer=customer,
        state=state,
        placed_from=placed_from,
        placed_to=placed_to,
        offset_min=offset_min,
    )
    got: list[int] = []
    offset = 0
    while True:
        page = client.get("/orders", query_string={**params, "offset": offset}).get_json()
        assert page["total"] == len(want), params
        got += [o["id"] for o in page["items"]]
        offset += limit
        if offset >= page["total"]:
            break
    assert got == want, params


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=ten",
        "offset=-1",
        "state=open",
        "placed_from=2026-13-01",
        "placed_from=30/11/2026",
        "placed_from=1764460800",
        "placed_to=2026-11-30T10:00:00Z",
        "utc_offset_minutes=900",
        "utc_offset_minutes=1.5",
        "customer=",
        f"customer={'x' * 201}",
        "sort=customer",
    ],
)
def test_bad_parameters_are_refused_with_the_parameter_named(client, query) -> None:
    response = client.get(f"/orders?{query}")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    name = query.split("=")[0]
    assert [e["loc"] for e in response.get_json()["errors"]] == [f"query.{name}"]


def test_the_document_describes_every_parameter(client) -> None:
    document = client.get("/openapi.json").get_json()
    operation = document["paths"]["/orders"]["get"]
    params = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert set(params) == {"customer", "state", "placed_from", "placed_to", "utc_offset_minutes", "limit", "offset"}
    assert all(schema.get("description") for schema in params.values())
    page = document["components"]["schemas"]["OrderPage"]
    assert set(page["required"]) == {"items", "total", "limit", "offset"}
    assert "422" in operation["responses"]
