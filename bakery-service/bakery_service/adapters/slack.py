"""The bakery's Slack workspace, through slack_sdk's WebClient (a bot token with users:read, im:write, chat:write,
im:history).

The client makes one attempt per call (no retry handlers): retrying, with backoff, is the outbox's job.

Slack has no idempotency key for posting a message, but a message carries metadata (an event type and a
payload, returned by ``conversations.history`` with ``include_all_metadata``): each notice carries its
action's id there, so that a retry after an attempt that may have posted looks in the conversation first
(``find_notice``) and never posts it twice.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import urllib.error
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ..settings import Settings
from .integration_errors import IntegrationError, NotConfigured, retry_after_seconds, secret

log = logging.getLogger(__name__)

INTEGRATION = "slack"
PAGE_SIZE = 200  # users.list: Slack recommends at most 200 a page
# Slack's own error codes that a later attempt can get past; every other one (invalid_auth, missing_scope,
# user_not_found...) will come back the same.
RETRYABLE_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
HISTORY_PAGE = 100  # the conversation's latest messages searched for a notice already posted


def normalize_name(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form: ``"  Zoé  O'Brien."`` → ``"zoe o brien"``."""
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(char for char in folded if not unicodedata.combining(char)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def _candidate_names(member: dict[str, Any]) -> list[str]:
    profile = member.get("profile") or {}
    names = [
        member.get("real_name"),
        profile.get("real_name"),
        profile.get("real_name_normalized"),
        profile.get("display_name"),
        profile.get("display_name_normalized"),
        member.get("name"),
    ]
    return [name for name in names if name]


def _failure(action: str, exc: Exception) -> IntegrationError:
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 0)
        code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        retryable = status == 429 or status >= 500 or code in RETRYABLE_ERRORS
        message = f"Slack {action} failed: HTTP {status}" + (f" {code}" if code else "")
        headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
        return IntegrationError(
            message,
            retryable=retryable,
            throttled=status == 429 or code == "ratelimited",
            retry_after=retry_after_seconds(headers.get("retry-after")),
        )
    return IntegrationError(f"Slack {action} failed: {type(exc).__name__}", retryable=True)


class SlackClient:
    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        self._settings = settings
        self.timeout = timeout if timeout is not None else settings.integration_timeout_seconds
        self._web: WebClient | None = None

    @property
    def configured(self) -> bool:
        token = self._settings.slack_bot_token
        return bool(token and token.get_secret_value())

    def _client(self) -> WebClient:
        if not self.configured:
            raise NotConfigured(INTEGRATION)
        if self._web is None:
            self._web = WebClient(
                token=secret(self._settings.slack_bot_token, INTEGRATION),
                base_url=self._settings.slack_api_url,
                # Annotated int by slack_sdk, handed to urllib, which takes fractions of a second.
                timeout=self.timeout,  # type: ignore[arg-type]
                retry_handlers=[],
            )
        return self._web

    def _call(self, action: str, method: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except (SlackClientError, urllib.error.URLError, OSError) as exc:
            raise _failure(action, exc) from exc

    def find_user(self, name: str) -> str | None:
        """The id of the first active person whose real, display or user name matches ``name``; None when nobody (or
        only a bot or a deactivated account) matches."""
        wanted = normalize_name(name)
        if not wanted:
            return None
        web = self._client()
        cursor: str | None = None
        while True:
            page = self._call("users.list", web.users_list, limit=PAGE_SIZE, cursor=cursor)
            for member in page.get("members") or []:
                if member.get("deleted") or member.get("is_bot") or member.get("id") == "USLACKBOT":
                    continue
                if any(normalize_name(candidate) == wanted for candidate in _candidate_names(member)):
                    user_id: str = member["id"]
                    return user_id
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    def open_conversation(self, user_id: str) -> str:
        """The direct conversation with ``user_id`` (opened, or the existing one): its channel id."""
        opened = self._call("conversations.open", self._client().conversations_open, users=user_id)
        channel: str = opened["channel"]["id"]
        return channel

    def find_notice(self, channel: str, action_id: str) -> str | None:
        """The ts of the message in ``channel`` whose metadata names ``action_id``, or None."""
        page = self._call(
            "conversations.history",
            self._client().conversations_history,
            channel=channel,
            limit=HISTORY_PAGE,
            include_all_metadata=True,
        )
        for message in page.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("action_id") == action_id:
                ts: str | None = message.get("ts")
                return ts
        return None

    def post_notice(self, channel: str, text: str, *, event_type: str, action_id: str, order_id: int) -> str:
        """Post ``text`` with metadata naming the action it makes; returns the message's ts."""
        metadata = {"event_type": event_type, "event_payload": {"action_id": action_id, "order_id": order_id}}
        posted = self._call(
            "chat.postMessage", self._client().chat_postMessage, channel=channel, text=text, metadata=metadata
        )
        log.info("slack message posted", extra={"slack_channel": channel, "action_id": action_id})
        return posted.get("ts") or ""
