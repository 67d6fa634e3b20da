"""Slack Web API: users.list (cursor pagination), conversations.open, conversations.history (with message
metadata), chat.postMessage (with metadata).

Like Slack, it answers HTTP 200 with ``{"ok": false, "error": ...}`` for API errors (invalid_auth,
user_not_found...) and HTTP 429 with Retry-After when rate limited. Its history lags posting by
``faults.index_lag`` seconds when told to.
"""

from __future__ import annotations

import itertools
import json
import time

from pytest_httpserver import HTTPServer
from testkit.faults import Faults
from werkzeug import Request, Response

from . import injected, json_response, trickled


def member(user_id: str, name: str, real_name: str = "", display_name: str = "", **extra) -> dict:
    return {
        "id": user_id,
        "team_id": "T0BAKERY",
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "is_bot": False,
        "profile": {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
        },
        **extra,
    }


class FakeSlack:
    def __init__(self, server: HTTPServer, *, token: str, members: list[dict], page_size_cap: int = 2) -> None:
        self.server = server
        self.token = token
        self.members = members
        # Slack may return fewer members than asked for; a small cap makes every test page.
        self.page_size_cap = page_size_cap
        self.channels: dict[str, str] = {}
        self.messages: list[dict] = []
        self.faults = Faults()
        self._ts = itertools.count(1)
        server.expect_request("/api/users.list").respond_with_handler(self._users_list)
        server.expect_request("/api/conversations.open", method="POST").respond_with_handler(self._open)
        server.expect_request("/api/conversations.history").respond_with_handler(self._history)
        server.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(self._post)

    def with_action(self, action_id: str) -> list[dict]:
        """Every message posted for ``action_id`` (the truth, not the lagging history)."""
        return [
            m for m in self.messages if (m.get("metadata") or {}).get("event_payload", {}).get("action_id") == action_id
        ]

    @property
    def url(self) -> str:
        return self.server.url_for("/api/")

    def _params(self, request: Request) -> dict:
        params = dict(request.args)
        params.update(request.form)
        params.update(request.get_json(silent=True) or {})
        return params

    def _denied(self, request: Request, payload=None) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"ok": False, "error": "invalid_auth"})
        return injected(
            self.faults,
            payload,
            refused=json_response({"ok": False, "error": "invalid_arguments"}),
            throttled_body={"ok": False, "error": "ratelimited"},
            failed_body={"ok": False, "error": "service_unavailable"},
        )

    def _users_list(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        params = self._params(request)
        start = int(params.get("cursor") or 0)
        limit = min(int(params.get("limit") or 1000), self.page_size_cap)
        page = self.members[start : start + limit]
        next_cursor = str(start + limit) if start + limit < len(self.members) else ""
        return json_response({"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}})

    def _open(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        user = self._params(request).get("users", "")
        if user not in {m["id"] for m in self.members}:
            return json_response({"ok": False, "error": "user_not_found"})
        channel = self.channels.setdefault(user, f"D{len(self.channels) + 1:08d}")
        return json_response({"ok": True, "channel": {"id": channel}})

    def _history(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        params = self._params(request)
        if params.get("channel") not in self.channels.values():
            return json_response({"ok": False, "error": "channel_not_found"})
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(params.get("limit") or 100)
        found = [
            {
                "type": "message",
                "text": m["text"],
                "ts": m["ts"],
                **({"metadata": m["metadata"]} if with_metadata and m.get("metadata") else {}),
            }
            for m in reversed(self.messages)  # newest first
            if m["channel"] == params["channel"] and self.faults.visible(m["posted"])
        ]
        return json_response({"ok": True, "messages": found[:limit], "has_more": len(found) > limit})

    def _post(self, request: Request) -> Response:
        params = self._params(request)
        if denied := self._denied(request, params):
            return denied
        if params.get("channel") not in self.channels.values():
            return json_response({"ok": False, "error": "channel_not_found"})
        if not params.get("text"):
            return json_response({"ok": False, "error": "no_text"})
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        ts = f"1764489600.{next(self._ts):06d}"
        self.messages.append(
            {
                "channel": params["channel"],
                "text": params["text"],
                "ts": ts,
                "metadata": metadata,
                "posted": time.time(),
            }
        )
        self.faults.after_acting()
        if slow := self.faults.slow_failure():
            return trickled(json_response({"ok": False, "error": "service_unavailable"}, 503), slow)
        return json_response({"ok": True, "channel": params["channel"], "ts": ts, "message": {"text": params["text"]}})
