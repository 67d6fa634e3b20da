"""SlackClient over real HTTP against a local Slack Web API fake."""

from __future__ import annotations

import time

import pytest
from bakery_service.adapters.integration_errors import IntegrationError, NotConfigured
from bakery_service.adapters.slack import SlackClient, normalize_name
from bakery_service.settings import Settings

from .fakes import assert_secret_hidden, capture_everything, fail_next
from .fakes.slack import FakeSlack, member

pytestmark = pytest.mark.integration

TOKEN = "xoxb-bakery-5ecr3t-token"

MEMBERS = [
    member("USLACKBOT", "slackbot", "Slackbot"),
    member("U00000BOT", "orderbot", "Mr Cakelover", is_bot=True),
    member("U0000GONE", "old.cake", "Mr Cakelover", deleted=True),
    member("U00000ZOE", "zoe", "Zoé Dupré", "zozo"),
    member("U0000ANNA", "anna.lee", "Anna Lee", "Annie"),
    member("U00CAKELO", "mr.cakelover", "Mister C", "Mr Cakelover"),
]


@pytest.fixture()
def slack(httpserver) -> FakeSlack:
    return FakeSlack(httpserver, token=TOKEN, members=list(MEMBERS))


def client(slack: FakeSlack, *, token: str = TOKEN, timeout: float = 2.0) -> SlackClient:
    settings = Settings(
        jwt_secret="s" * 64, database_url="postgresql://unused/none", slack_bot_token=token, slack_api_url=slack.url
    )
    return SlackClient(settings, timeout=timeout)


def test_normalize_name_folds_case_accents_and_punctuation() -> None:
    assert normalize_name("  Mr. CAKELOVER ") == normalize_name("mr cakelover") == "mr cakelover"
    assert normalize_name("Zoé Dupré") == "zoe dupre"
    assert normalize_name("mr_cakelover") == "mr cakelover"


@pytest.mark.parametrize(
    ("name", "user_id"),
    [
        ("Mr Cakelover", "U00CAKELO"),  # display name, found on the last page; the bot and the deleted one skipped
        ("mr. cakelover", "U00CAKELO"),
        ("ZOE DUPRE", "U00000ZOE"),  # real name, without its accents
        ("annie", "U0000ANNA"),  # display name
        ("anna.lee", "U0000ANNA"),  # user name
        ("Nobody Here", None),
        ("Slackbot", None),
        ("   ", None),
    ],
)
def test_find_user_pages_through_every_member(slack, name, user_id) -> None:
    assert client(slack).find_user(name) == user_id


def test_find_user_follows_the_cursor(slack) -> None:
    assert client(slack).find_user("Nobody Here") is None
    cursors = [request.values.get("cursor") for request, _ in slack.server.log]
    assert cursors == [None, "2", "4"]
    assert all(request.headers["Authorization"] == f"Bearer {TOKEN}" for request, _ in slack.server.log)


def send(slack_client: SlackClient, user_id: str, text: str, action_id: str = "act-1") -> str:
    channel = slack_client.open_conversation(user_id)
    return slack_client.post_notice(channel, text, event_type="bakery_ready_notice", action_id=action_id, order_id=21)


def test_a_notice_goes_to_the_direct_conversation_with_its_action_in_the_metadata(slack, caplog) -> None:
    capture_everything(caplog)
    ts = send(client(slack), "U00CAKELO", "Your Chocolate Cake is ready!")
    [message] = slack.messages
    assert (message["channel"], message["text"], message["ts"]) == (
        slack.channels["U00CAKELO"],
        "Your Chocolate Cake is ready!",
        ts,
    )
    assert message["metadata"] == {
        "event_type": "bakery_ready_notice",
        "event_payload": {"action_id": "act-1", "order_id": 21},
    }
    assert_secret_hidden(TOKEN, caplog)


def test_a_posted_notice_is_found_by_its_action_once_the_history_shows_it(slack) -> None:
    slack.faults.index_lag = 0.3
    slack_client = client(slack)
    ts = send(slack_client, "U00CAKELO", "Ready!", action_id="act-7")
    channel = slack.channels["U00CAKELO"]
    assert slack_client.find_notice(channel, "act-7") is None  # not in the history yet
    time.sleep(0.35)
    assert slack_client.find_notice(channel, "act-7") == ts
    assert slack_client.find_notice(channel, "act-8") is None


def test_not_configured_without_a_token_and_nothing_is_sent(slack) -> None:
    unconfigured = SlackClient(Settings(jwt_secret="s" * 64, database_url="postgresql://unused/none"))
    assert not unconfigured.configured
    with pytest.raises(NotConfigured):
        unconfigured.find_user("Anna Lee")
    with pytest.raises(NotConfigured):
        unconfigured.open_conversation("U0000ANNA")
    assert slack.server.log == []


def test_rate_limited_is_retryable_with_its_retry_after(slack, caplog) -> None:
    capture_everything(caplog)
    fail_next(
        slack.server,
        "/api/users.list",
        status=429,
        headers={"Retry-After": "7"},
        body={"ok": False, "error": "ratelimited"},
    )
    with pytest.raises(IntegrationError) as caught:
        client(slack).find_user("Anna Lee")
    assert caught.value.retryable and caught.value.throttled
    assert caught.value.retry_after == 7
    assert "429" in str(caught.value)
    assert len(slack.server.log) == 1
    assert_secret_hidden(TOKEN, caplog, caught.value)


def test_a_server_error_is_retryable(slack) -> None:
    fail_next(slack.server, "/api/chat.postMessage", status=500, body={"ok": False, "error": "internal_error"})
    with pytest.raises(IntegrationError) as caught:
        send(client(slack), "U0000ANNA", "Ready!")
    assert caught.value.retryable
    assert slack.messages == []


def test_a_timeout_is_retryable(slack, caplog) -> None:
    capture_everything(caplog)
    fail_next(slack.server, "/api/users.list", status=200, body={"ok": True, "members": []}, delay=1.0)
    with pytest.raises(IntegrationError) as caught:
        client(slack, timeout=0.3).find_user("Anna Lee")
    assert caught.value.retryable
    assert_secret_hidden(TOKEN, caplog, caught.value)


def test_an_unknown_user_is_not_retryable(slack) -> None:
    with pytest.raises(IntegrationError) as caught:
        send(client(slack), "U404", "Ready!")
    assert not caught.value.retryable
    assert "user_not_found" in str(caught.value)


def test_a_wrong_token_is_not_retryable_and_not_shown(slack, caplog) -> None:
    capture_everything(caplog)
    with pytest.raises(IntegrationError) as caught:
        client(slack, token="xoxb-wrong-d0nt-sh0w").find_user("Anna Lee")
    assert not caught.value.retryable
    assert "invalid_auth" in str(caught.value)
    assert_secret_hidden("xoxb-wrong-d0nt-sh0w", caplog, caught.value)


def test_a_4xx_is_not_retryable(slack) -> None:
    fail_next(slack.server, "/api/conversations.open", status=403, body={"ok": False, "error": "missing_scope"})
    with pytest.raises(IntegrationError) as caught:
        send(client(slack), "U0000ANNA", "Ready!")
    assert not caught.value.retryable
