"""/cakes on a real Postgres: ids, units read from the JSON type, refusals that create nothing."""

from __future__ import annotations

import pytest

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE

pytestmark = pytest.mark.integration


def test_create_read_list_a_cake_keeping_grams_and_units(client) -> None:
    created = client.post("/cakes", json=CHOCOLATE_CAKE)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == "/cakes/chocolate_cake"
    body = created.get_json()
    assert body["id"] == "chocolate_cake" and body["name"] == "Chocolate Cake"
    assert body["units"] == {"chocolate": "g", "butter": "g", "flour": "g", "sugar": "g", "eggs": "unit"}
    # The answer keeps the JSON types: 33.5 stays a float, 1 stays an integer.
    raw = client.get("/cakes/chocolate_cake").get_data(as_text=True)
    assert '"chocolate":33.5' in raw and '"eggs":1' in raw and '"eggs":1.0' not in raw
    assert [c["id"] for c in client.get("/cakes").get_json()["items"]] == ["chocolate_cake"]


def test_eight_point_zero_is_grams_and_eight_is_units(client) -> None:
    body = client.post(
        "/cakes",
        data='{"name": "Crème Brûlée", "ingredients": {"cream": 8.0, "eggs": 8}}',
        content_type="application/json",
    ).get_json()
    assert body["id"] == "creme_brulee"
    assert body["units"] == {"cream": "g", "eggs": "unit"}
    assert '"cream":8.0' in client.get("/cakes/creme_brulee").get_data(as_text=True)


def test_an_existing_id_is_409(client) -> None:
    assert client.post("/cakes", json=CHOCOLATE_CAKE).status_code == 201
    again = client.post("/cakes", json={"name": "  chocolate   CAKE!! ", "ingredients": {"cocoa": 1.5}})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert "chocolate_cake" in again.get_json()["detail"]
    assert client.get("/cakes/chocolate_cake").get_json()["ingredients"]["chocolate"] == 33.5


@pytest.mark.parametrize(
    "ingredients",
    [
        {"flour": "12"},
        {"flour": True},
        {"flour": 0},
        {"flour": -3.5},
        {"flour": 1.2345},
        {"flour": None},
        {},
        {"  ": 1},
        {"flour": 1.0, "FLOUR": 2.0},
    ],
)
def test_bad_ingredients_are_422_and_create_nothing(client, ingredients) -> None:
    response = client.post("/cakes", json={"name": "Bad Cake", "ingredients": ingredients})
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert client.get("/cakes").get_json()["items"] == []


def test_a_name_without_letters_or_digits_is_422(client) -> None:
    assert client.post("/cakes", json={"name": "!!!", "ingredients": {"flour": 1.0}}).status_code == 422


def test_unknown_cake_is_404(client) -> None:
    assert client.get("/cakes/no_such_cake").status_code == 404
    assert client.get("/cakes/Not%20An%20Id").status_code == 404
    assert client.delete("/cakes/no_such_cake").status_code == 404


def test_a_cake_open_orders_use_cannot_be_deleted_until_they_are_cancelled(client) -> None:
    client.post("/cakes", json=CHOCOLATE_CAKE)
    order = client.post("/orders", json=BRIEF_ORDER).get_json()
    refused = client.delete("/cakes/chocolate_cake")
    assert refused.status_code == 409 and f"#{order['id']}" in refused.get_json()["detail"]
    client.delete(f"/orders/{order['id']}")
    assert client.delete("/cakes/chocolate_cake").status_code == 204
    assert client.get("/cakes/chocolate_cake").status_code == 404
    # The cancelled order keeps what it needed.
    assert client.get(f"/orders/{order['id']}").get_json()["recipe_name"] == "Chocolate Cake"


def test_writes_and_reads_need_the_suites_token(app) -> None:
    anonymous = app.test_client()
    for method, path in (("post", "/cakes"), ("get", "/cakes"), ("delete", "/cakes/x"), ("post", "/orders")):
        response = getattr(anonymous, method)(path, json=CHOCOLATE_CAKE)
        assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_an_order_racing_the_deletion_of_its_cake_never_loses_its_cake(deps) -> None:
    import threading

    from bakery_service.domain.models import CakeCreate, OrderCreate, OrderQuery
    from bakery_service.usecases.cancel_order import cancel_order
    from bakery_service.usecases.create_cake import create_cake
    from bakery_service.usecases.delete_cake import delete_cake
    from bakery_service.usecases.place_order import place_order
    from bakery_service.usecases.read_orders import list_orders
    from servicekit.domain_errors import DomainError

    for _ in range(10):
        create_cake(deps.uow(), CakeCreate.model_validate(CHOCOLATE_CAKE))
        outcome: dict[str, str] = {}

        def place(outcome: dict[str, str] = outcome) -> None:
            try:
                place_order(
                    deps.uow(),
                    OrderCreate.model_validate(BRIEF_ORDER),
                    jira_mode=deps.settings.jira_mode,
                    public_base_url=deps.settings.public_base_url,
                )
                outcome["order"] = "placed"
            except DomainError as exc:
                outcome["order"] = type(exc).__name__

        def delete(outcome: dict[str, str] = outcome) -> None:
            try:
                delete_cake(deps.uow(), "chocolate_cake")
                outcome["cake"] = "deleted"
            except DomainError as exc:
                outcome["cake"] = type(exc).__name__

        threads = [threading.Thread(target=place), threading.Thread(target=delete)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcome in ({"order": "placed", "cake": "Conflict"}, {"order": "NotFound", "cake": "deleted"}), outcome
        placed = list_orders(deps.uow(), OrderQuery(state="placed", limit=10)).items
        for order in placed:
            cancel_order(deps.uow(), order.id)
        if outcome["cake"] == "Conflict":
            delete_cake(deps.uow(), "chocolate_cake")
