"""SlackClient over real HTTP against a local Slack Web API fake."""

from __future__ import annotations

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


def test_send_direct_message_opens_the_conversation_and_posts(slack, caplog) -> None:
    capture_everything(caplog)
    ts = client(slack).send_direct_message("U00CAKELO", "Your Chocolate Cake is ready!")
    assert slack.messages == [
        {"channel": slack.channels["U00CAKELO"], "text": "Your Chocolate Cake is ready!", "ts": ts}
    ]
    assert_secret_hidden(TOKEN, caplog)


def test_not_configured_without_a_token_and_nothing_is_sent(slack) -> None:
    unconfigured = SlackClient(Settings(jwt_secret="s" * 64, database_url="postgresql://unused/none"))
    assert not unconfigured.configured
    with pytest.raises(NotConfigured):
        unconfigured.find_user("Anna Lee")
    with pytest.raises(NotConfigured):
        unconfigured.send_direct_message("U0000ANNA", "hi")
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
    assert caught.value.retryable
    assert caught.value.retry_after == 7
    assert "429" in str(caught.value)
    assert len(slack.server.log) == 1
    assert_secret_hidden(TOKEN, caplog, caught.value)


def test_a_server_error_is_retryable(slack) -> None:
    fail_next(slack.server, "/api/chat.postMessage", status=500, body={"ok": False, "error": "internal_error"})
    with pytest.raises(IntegrationError) as caught:
        client(slack).send_direct_message("U0000ANNA", "Ready!")
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
        client(slack).send_direct_message("U404", "Ready!")
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
        client(slack).send_direct_message("U0000ANNA", "Ready!")
    assert not caught.value.retryable
