"""Jira Cloud, through atlassian-python-api against REST API v3.

atlassian-python-api rather than `jira`: its Cloud client speaks v3 (Atlassian Document Format descriptions) and
searches with `/rest/api/3/search/jql`, the endpoint Jira Cloud kept when it removed `/search` (410 Gone since
late 2025; pycontribs/jira#2369 reports `jira` 3.10.5 still calling it). Retrying is left to the outbox (its
backoff, its attempt count), so the client makes one attempt per call.

Jira offers no idempotency key for creating an issue. The bakery gives every ticket a label of its own
(``bakery-batch-<id>``) and, before creating one again after an attempt that may have created it, looks for
that exact label (``find_tickets_by_label``); Jira's search index lags creation by seconds, so that lookup is
repeated until the lag has passed (usecases/send_action.py). A second ticket made anyway is labelled
``bakery-duplicate`` and linked to the first (``flag_duplicate``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import requests
from atlassian import Jira

from ..settings import Settings
from .integration_errors import IntegrationError, NotConfigured, retry_after_seconds, secret, setting

log = logging.getLogger(__name__)

INTEGRATION = "jira"
DUPLICATE_LABEL = "bakery-duplicate"
_URL = re.compile(r"(https?://\S+)")
_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def ingredients_table(rows: Iterable[tuple[str, str]], header: tuple[str, str] = ("Ingredient", "Quantity")) -> str:
    """A pipe table for a ticket description; create_ticket turns it into a real Jira table."""
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| {name} | {amount} |" for name, amount in rows]
    return "\n".join(lines)


def _inline(text: str) -> list[dict[str, Any]]:
    """Text nodes, with bare URLs as links (ADF has no auto-linking)."""
    nodes = []
    for part in _URL.split(text):
        if not part:
            continue
        node: dict[str, Any] = {"type": "text", "text": part}
        if _URL.fullmatch(part):
            node["marks"] = [{"type": "link", "attrs": {"href": part}}]
        nodes.append(node)
    return nodes


def _paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": _inline(text)} if text else {"type": "paragraph"}


def _table(rows: list[list[str]]) -> dict[str, Any]:
    def cell(kind: str, text: str) -> dict[str, Any]:
        return {"type": kind, "attrs": {}, "content": [_paragraph(text.strip())]}

    table_rows = [
        {"type": "tableRow", "content": [cell("tableHeader" if index == 0 else "tableCell", text) for text in row]}
        for index, row in enumerate(rows)
    ]
    return {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"}, "content": table_rows}


def to_adf(text: str) -> dict[str, Any]:
    """Plain text to an Atlassian Document Format document: one paragraph per line, runs of pipe-table rows as a
    table whose first row is the header, URLs as links."""
    content: list[dict[str, Any]] = []
    table: list[list[str]] = []
    for line in text.splitlines():
        row = _TABLE_ROW.match(line)
        if row:
            if not _TABLE_RULE.match(line):
                table.append(row.group(1).split("|"))
            continue
        if table:
            content.append(_table(table))
            table = []
        if line.strip():
            content.append(_paragraph(line.strip()))
    if table:
        content.append(_table(table))
    return {"type": "doc", "version": 1, "content": content or [_paragraph("")]}


def _jql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _failure(action: str, exc: Exception) -> IntegrationError:
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        retryable = status in (408, 429) or status >= 500
        detail = str(exc) if status < 500 else ""
        return IntegrationError(
            f"Jira {action} failed: HTTP {status} {detail}".strip(),
            retryable=retryable,
            throttled=status == 429,
            retry_after=retry_after_seconds(exc.response.headers.get("Retry-After")),
        )
    return IntegrationError(f"Jira {action} failed: {type(exc).__name__}", retryable=True)


class JiraClient:
    """Tickets in one Jira Cloud project, with basic auth (account e-mail + API token)."""

    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        self._settings = settings
        # atlassian-python-api keeps its timeout in whole seconds (int()): rounded up, never to 0.
        self.timeout = max(1, math.ceil(timeout if timeout is not None else settings.integration_timeout_seconds))
        self._jira: Jira | None = None

    @property
    def configured(self) -> bool:
        s = self._settings
        return bool(s.jira_url and s.jira_email and s.jira_api_token and s.jira_api_token.get_secret_value())

    def _client(self) -> Jira:
        if not self.configured:
            raise NotConfigured(INTEGRATION)
        if self._jira is None:
            s = self._settings
            self._jira = Jira(
                url=setting(s.jira_url, INTEGRATION),
                username=s.jira_email,
                password=secret(s.jira_api_token, INTEGRATION),
                cloud=True,
                api_version="3",
                timeout=self.timeout,
                advanced_mode=False,
                # It would sleep through one Retry-After itself, holding the outbox's worker for that long.
                retry_with_header=False,
            )
        return self._jira

    def create_ticket(self, summary: str, description: str, due_date: date | None, labels: list[str]) -> str:
        """Create a ticket; returns its key (``BAKE-12``). Pipe-table rows of ``description`` become a table."""
        fields: dict[str, Any] = {
            "project": {"key": self._settings.jira_project_key},
            "issuetype": {"name": self._settings.jira_issue_type},
            "summary": summary,
            "description": to_adf(description),
            "labels": list(labels),
        }
        if due_date is not None:
            fields["duedate"] = due_date.isoformat()
        jira = self._client()
        try:
            created = jira.create_issue(fields=fields)
        except (requests.RequestException, ValueError) as exc:
            raise _failure("create ticket", exc) from exc
        key: str | None = created.get("key") if isinstance(created, dict) else None
        if not key:
            raise IntegrationError("Jira create ticket failed: the answer has no issue key", retryable=True)
        log.info("jira ticket created", extra={"jira_key": key})
        return key

    def find_tickets_by_label(self, label: str) -> list[str]:
        """Every ticket of the project carrying exactly ``label``, oldest first. Jira's search index lags issue
        creation by a few seconds, so a ticket created just now may not be found yet."""
        jql = f"project = {_jql_string(self._settings.jira_project_key)} AND labels = {_jql_string(label)}"
        jira = self._client()
        try:
            found = jira.enhanced_jql(f"{jql} ORDER BY created ASC", fields="labels", limit=50)
        except (requests.RequestException, ValueError) as exc:
            raise _failure("search", exc) from exc
        issues = (found or {}).get("issues") or []
        # JQL's label match is exact already; checking again costs nothing and guards against a loose search.
        return [i["key"] for i in issues if label in ((i.get("fields") or {}).get("labels") or [label])]

    def flag_duplicate(self, key: str, original: str) -> None:
        """Label ``key`` as a duplicate and link it to ``original`` ("Duplicate": key duplicates original), so
        that whoever reads the tickets sees one order and its double, never two orders."""
        jira = self._client()
        try:
            jira.edit_issue(key, {"labels": [{"add": DUPLICATE_LABEL}]})
            jira.create_issue_link(
                {"type": {"name": "Duplicate"}, "inwardIssue": {"key": key}, "outwardIssue": {"key": original}}
            )
        except (requests.RequestException, ValueError) as exc:
            raise _failure("flag duplicate", exc) from exc
        log.warning("jira duplicate ticket flagged", extra={"jira_key": key, "jira_original": original})

    def issue_labels(self, key: str) -> list[str]:
        jira = self._client()
        try:
            labels = jira.get_issue_labels(key)
        except (requests.RequestException, ValueError) as exc:
            raise _failure("read labels", exc) from exc
        return list(labels or [])
