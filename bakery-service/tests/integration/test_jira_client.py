"""JiraClient over real HTTP against a local Jira Cloud REST v3 fake."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from bakery_service.adapters.integration_errors import IntegrationError, NotConfigured
from bakery_service.adapters.jira import JiraClient, ingredients_table, to_adf
from bakery_service.settings import Settings

from .fakes import assert_secret_hidden, capture_everything, fail_next
from .fakes.jira import ISSUE, SEARCH, FakeJira

pytestmark = pytest.mark.integration

TOKEN = "jira-api-token-5ecr3t"
EMAIL = "orders@bakery.example"


@pytest.fixture()
def jira(httpserver) -> FakeJira:
    return FakeJira(httpserver, email=EMAIL, token=TOKEN)


def settings(**overrides) -> Settings:
    return Settings(jwt_secret="s" * 64, database_url="postgresql://unused/none", **overrides)


def client(jira: FakeJira, *, token: str = TOKEN, timeout: float = 2.0) -> JiraClient:
    return JiraClient(settings(jira_url=jira.url, jira_email=EMAIL, jira_api_token=token), timeout=timeout)


DESCRIPTION = "\n".join(
    [
        "Hello dear provider,",
        "We would like to order these ingredients:",
        ingredients_table([("Chocolate", "268 g"), ("Eggs", "8")]),
        "Order: http://localhost:8004/orders/21",
        "Have a nice day!",
    ]
)


def test_create_ticket_sends_an_adf_table_due_date_and_labels(jira, caplog) -> None:
    capture_everything(caplog)
    key = client(jira).create_ticket("Order #21", DESCRIPTION, date(2026, 12, 1), ["bakery-order-21"])

    assert key == "BAKE-1"
    fields = jira.issues[key]["fields"]
    assert fields["summary"] == "Order #21"
    assert fields["duedate"] == "2026-12-01"
    assert fields["labels"] == ["bakery-order-21"]
    assert fields["issuetype"] == {"name": "Task"}
    doc = fields["description"]
    assert doc["type"] == "doc" and doc["version"] == 1
    kinds = [node["type"] for node in doc["content"]]
    assert kinds == ["paragraph", "paragraph", "table", "paragraph", "paragraph"]
    table = doc["content"][2]
    cells = [
        [cell["type"], cell["content"][0]["content"][0]["text"]] for row in table["content"] for cell in row["content"]
    ]
    assert cells == [
        ["tableHeader", "Ingredient"],
        ["tableHeader", "Quantity"],
        ["tableCell", "Chocolate"],
        ["tableCell", "268 g"],
        ["tableCell", "Eggs"],
        ["tableCell", "8"],
    ]
    link = doc["content"][3]["content"][1]
    assert link["marks"] == [{"type": "link", "attrs": {"href": "http://localhost:8004/orders/21"}}]
    assert_secret_hidden(TOKEN, caplog)


def test_a_ticket_without_due_date_has_no_duedate_field(jira) -> None:
    key = client(jira).create_ticket("Ingredients of 2026-11-30", "Nothing special", None, [])
    assert "duedate" not in jira.issues[key]["fields"]
    assert to_adf("")["content"] == [{"type": "paragraph"}]


def test_find_tickets_by_label_and_read_their_labels(jira) -> None:
    jira_client = client(jira)
    assert jira_client.find_tickets_by_label("bakery-batch-2026-11-30") == []
    jira_client.create_ticket("Batch 1", "x", None, ["bakery-batch-2026-11-29"])
    key = jira_client.create_ticket("Batch 2", "x", None, ["bakery-batch-2026-11-30", "missing-ingredients"])

    assert jira_client.find_tickets_by_label("bakery-batch-2026-11-30") == [key]
    assert jira_client.issue_labels(key) == ["bakery-batch-2026-11-30", "missing-ingredients"]
    search = jira.server.log[-2][0]
    assert search.path == SEARCH
    assert search.args["jql"] == 'project = "BAKE" AND labels = "bakery-batch-2026-11-30" ORDER BY created ASC'


def test_the_search_lags_creation_as_jiras_does(jira) -> None:
    jira.faults.index_lag = 0.3
    jira_client = client(jira)
    key = jira_client.create_ticket("Batch 3", "x", None, ["bakery-batch-3"])
    assert jira_client.find_tickets_by_label("bakery-batch-3") == []
    time.sleep(0.35)
    assert jira_client.find_tickets_by_label("bakery-batch-3") == [key]


def test_a_duplicate_is_labelled_and_linked_to_the_first(jira) -> None:
    jira_client = client(jira)
    first = jira_client.create_ticket("Batch 4", "x", None, ["bakery-batch-4"])
    second = jira_client.create_ticket("Batch 4", "x", None, ["bakery-batch-4"])
    jira_client.flag_duplicate(second, first)
    jira_client.flag_duplicate(second, first)  # again: nothing more
    assert jira.issues[second]["fields"]["labels"] == ["bakery-batch-4", "bakery-duplicate"]
    assert jira.links == [{"type": "Duplicate", "inward": second, "outward": first}]


def test_not_configured_without_a_token_and_nothing_is_sent(jira) -> None:
    unconfigured = JiraClient(settings(jira_url=jira.url, jira_email=EMAIL))
    assert not unconfigured.configured
    with pytest.raises(NotConfigured) as caught:
        unconfigured.create_ticket("Order #1", "x", None, [])
    assert caught.value.retryable
    assert jira.server.log == []
    assert client(jira).configured


@pytest.mark.parametrize(
    ("status", "headers"),
    [(429, {"Retry-After": "30"}), (500, None), (503, None)],
)
def test_rate_limits_and_server_errors_are_retryable(jira, caplog, status, headers) -> None:
    capture_everything(caplog)
    fail_next(jira.server, ISSUE, status=status, headers=headers, body={"errorMessages": ["busy"], "errors": {}})
    with pytest.raises(IntegrationError) as caught:
        client(jira).create_ticket("Order #1", "x", None, [])
    assert caught.value.retryable
    assert str(status) in str(caught.value)
    assert caught.value.retry_after == (30 if headers else None)
    assert jira.issues == {}
    assert len(jira.server.log) == 1  # one attempt: the outbox owns the retries
    assert_secret_hidden(TOKEN, caplog, caught.value)


def test_a_timeout_is_retryable(jira, caplog) -> None:
    capture_everything(caplog)
    fail_next(jira.server, re.compile(f"^{SEARCH}$"), status=200, body={"issues": []}, delay=1.6)
    with pytest.raises(IntegrationError) as caught:
        client(jira, timeout=0.3).find_tickets_by_label("x")  # atlassian-python-api waits whole seconds: 1
    assert caught.value.retryable and "Timeout" in str(caught.value)
    assert_secret_hidden(TOKEN, caplog, caught.value)


def test_a_rejected_ticket_is_not_retryable_and_says_why(jira) -> None:
    with pytest.raises(IntegrationError) as caught:
        client(jira).create_ticket("Order #1", "x", None, ["two words"])
    assert not caught.value.retryable
    assert "400" in str(caught.value) and "spaces" in str(caught.value)


def test_a_wrong_token_is_not_retryable_and_not_shown(jira, caplog) -> None:
    capture_everything(caplog)
    with pytest.raises(IntegrationError) as caught:
        client(jira, token="wrong-token-d0nt-sh0w").create_ticket("Order #1", "x", None, [])
    assert not caught.value.retryable
    assert "401" in str(caught.value)
    assert_secret_hidden("wrong-token-d0nt-sh0w", caplog, caught.value)


def test_labels_of_a_missing_issue_is_not_retryable(jira) -> None:
    with pytest.raises(IntegrationError) as caught:
        client(jira).issue_labels("BAKE-404")
    assert not caught.value.retryable
    assert "404" in str(caught.value)
