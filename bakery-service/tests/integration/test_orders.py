"""/orders on a real Postgres: the brief's numbers, cancelling, the ready notice, per-order tickets."""

from __future__ import annotations

import pytest

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE

pytestmark = pytest.mark.integration


@pytest.fixture()
def cake(client):
    assert client.post("/cakes", json=CHOCOLATE_CAKE).status_code == 201
    return "chocolate_cake"


def test_the_briefs_order_needs_exactly_the_briefs_ingredients(client, cake) -> None:
    response = client.post("/orders", json=BRIEF_ORDER)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert response.headers["Location"] == f"/orders/{order['id']}"
    assert [(i["ingredient"], i["display"]) for i in order["required_ingredients"]] == [
        ("chocolate", "268 g"),
        ("butter", "132 g"),
        ("flour", "68 g"),
        ("sugar", "132 g"),
        ("eggs", "8"),
        ("peanuts", "10"),
    ]
    raw = client.get(f"/orders/{order['id']}").get_data(as_text=True)
    assert '"amount":268.0,"unit":"g"' in raw and '"amount":8,"unit":"unit"' in raw
    assert order["state"] == "placed" and order["customer"] == "Mr. Cakelover"
    assert client.get("/orders").get_json()["items"][0]["id"] == order["id"]


@pytest.mark.parametrize(
    "change",
    [
        {"recipe": "no_such_cake"},
        {"persons": 0},
        {"persons": -1},
        {"quantity": "2"},
        {"quantity": 2.5},
        {"persons": True},
        {"extra_ingredients": {"peanuts": -10}},
        {"extra_ingredients": {"eggs": 2.5}},
        {"customer": ""},
        {"unexpected": 1},
    ],
)
def test_bad_orders_are_4xx_and_create_nothing(client, cake, outbox, change) -> None:
    response = client.post("/orders", json={**BRIEF_ORDER, **change})
    assert 400 <= response.status_code < 500 and response.mimetype == "application/problem+json"
    assert client.get("/orders").get_json()["items"] == []
    assert outbox() == []


def test_cancelling_twice_changes_nothing_and_notes_the_order_in_drive_once(client, cake, outbox) -> None:
    order = client.post("/orders", json=BRIEF_ORDER).get_json()
    first = client.delete(f"/orders/{order['id']}")
    assert first.status_code == 200 and first.get_json()["state"] == "cancelled"
    second = client.delete(f"/orders/{order['id']}")
    assert second.get_json() == first.get_json()
    drive = outbox("drive")
    assert len(drive) == 1
    payload = drive[0]["payload"]
    assert payload["customer_slug"] == "mr_cakelover" and payload["title"] == "Mr. Cakelover cancelled orders"
    assert payload["line"].startswith(f"- Order {order['id']} [Chocolate Cake] : Date ")
    assert client.delete("/orders/999999").status_code == 404


def test_ready_sends_a_slack_action_when_slack_is_set_up(client, cake, outbox) -> None:
    order = client.post("/orders", json=BRIEF_ORDER).get_json()
    ready = client.post(f"/orders/{order['id']}/ready").get_json()
    assert ready["state"] == "ready" and ready["ready"]["state"] == "pending" and ready["ready"]["at"]
    assert [a["action"] for a in outbox("slack")] == ["ready_notice"]
    assert outbox("slack")[0]["payload"]["customer"] == "Mr. Cakelover"
    # Ready again: no second message.
    assert client.post(f"/orders/{order['id']}/ready").status_code == 200
    assert len(outbox("slack")) == 1


def test_ready_goes_straight_to_email_without_slack(client, cake, outbox, fakes) -> None:
    fakes.slack.configured = False
    order = client.post("/orders", json=BRIEF_ORDER).get_json()
    client.post(f"/orders/{order['id']}/ready")
    assert outbox("slack") == []
    assert outbox("email")[0]["payload"]["to"] == "mr_cakelover@gmail.com"


def test_a_cancelled_order_cannot_be_ready_but_a_ready_one_can_be_cancelled(client, cake) -> None:
    first = client.post("/orders", json=BRIEF_ORDER).get_json()
    client.delete(f"/orders/{first['id']}")
    refused = client.post(f"/orders/{first['id']}/ready")
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    second = client.post("/orders", json=BRIEF_ORDER).get_json()
    client.post(f"/orders/{second['id']}/ready")
    assert client.delete(f"/orders/{second['id']}").get_json()["state"] == "cancelled"


def test_orders_filter_by_state(client, cake) -> None:
    a = client.post("/orders", json=BRIEF_ORDER).get_json()
    b = client.post("/orders", json=BRIEF_ORDER).get_json()
    client.delete(f"/orders/{a['id']}")
    assert [o["id"] for o in client.get("/orders?state=placed").get_json()["items"]] == [b["id"]]
    assert [o["id"] for o in client.get("/orders?state=cancelled").get_json()["items"]] == [a["id"]]
    assert client.get("/orders?state=eaten").status_code == 422


def test_a_whole_float_count_is_that_count(client, cake) -> None:
    order = client.post("/orders", json={**BRIEF_ORDER, "persons": 4.0, "quantity": 2.0}).get_json()
    assert (order["persons"], order["quantity"]) == (4, 2)
    assert order["required_ingredients"][0]["display"] == "268 g"


def test_huge_ids_are_404_not_a_database_error(client) -> None:
    assert client.get(f"/orders/{2**70}").status_code == 404
    assert client.delete(f"/orders/{2**70}").status_code == 404


def test_per_order_mode_asks_jira_for_one_ticket_per_order(make_settings, fakes, cake, outbox) -> None:
    from bakery_service import create_app
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.wiring import Dependencies
    from servicekit import issue_token
    from servicekit.db import make_engine

    settings = make_settings(jira_mode="per-order", public_base_url="https://bakery.example")
    engine = make_engine(settings.database_url, pool_size=1)
    app = create_app(settings, Dependencies(settings, engine, fakes, LoginForwarder(settings.auth_login_url)))
    headers = {"Authorization": f"Bearer {issue_token(settings, 'baker')[0]}"}
    order = app.test_client().post("/orders", json=BRIEF_ORDER, headers=headers).get_json()
    [action] = outbox("jira")
    payload = action["payload"]
    assert payload["summary"] == f"Order #{order['id']}"
    assert "| chocolate | 268 g |" in payload["description"] and "| peanuts | 10 |" in payload["description"]
    assert f"https://bakery.example/orders/{order['id']}" in payload["description"]
    assert payload["due_date"] and payload["label"] in payload["labels"]
    engine.dispose()
