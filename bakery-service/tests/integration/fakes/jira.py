"""Jira Cloud REST API v3: create issue, JQL search (``/rest/api/3/search/jql``), get issue (labels), edit an
issue's labels, link two issues. Its search index lags creation by ``faults.index_lag`` seconds, as Jira's does."""

from __future__ import annotations

import base64
import re
import threading
import time

from pytest_httpserver import HTTPServer
from testkit.faults import Faults
from werkzeug import Request, Response

from . import injected, json_response, trickled

ISSUE = "/rest/api/3/issue"
SEARCH = "/rest/api/3/search/jql"
LINK = "/rest/api/3/issueLink"
_KEY = re.compile(rf"^{ISSUE}/([A-Z][A-Z0-9]*-\d+)$")
_LABEL = re.compile(r'labels\s*=\s*"((?:[^"\\]|\\.)*)"')
_PROJECT = re.compile(r'project\s*=\s*"((?:[^"\\]|\\.)*)"')


class FakeJira:
    def __init__(self, server: HTTPServer, *, email: str, token: str, project: str = "BAKE") -> None:
        self.server = server
        self.project = project
        self.issues: dict[str, dict] = {}
        self.links: list[dict] = []
        self.requests: list[dict] = []
        self.faults = Faults()
        self._credentials = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
        self._lock = threading.Lock()
        server.expect_request(ISSUE, method="POST").respond_with_handler(self._create)
        server.expect_request(SEARCH, method="GET").respond_with_handler(self._search)
        server.expect_request(_KEY, method="GET").respond_with_handler(self._get)
        server.expect_request(_KEY, method="PUT").respond_with_handler(self._edit)
        server.expect_request(LINK, method="POST").respond_with_handler(self._link)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def with_label(self, label: str) -> list[str]:
        """The keys of every issue carrying ``label`` (the truth, not the lagging search)."""
        return [key for key, issue in self.issues.items() if label in issue["fields"].get("labels", [])]

    def _unauthorized(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != self._credentials:
            # Jira Cloud answers a bad API token with a plain-text 401.
            return Response(
                "Client must be authenticated to access this resource.", status=401, content_type="text/plain"
            )
        return None

    def _faulty(self, request: Request, payload=None) -> Response | None:
        refused = json_response({"errorMessages": [], "errors": {"summary": "Refused by a validator rule."}}, 400)
        return self._unauthorized(request) or injected(
            self.faults, payload, refused=refused, throttled_body={"errorMessages": ["Rate limit exceeded."]}
        )

    def _create(self, request: Request) -> Response:
        body = request.get_json()
        if early := self._faulty(request, body):
            return early
        fields = body.get("fields", {})
        self.requests.append(body)
        errors = {}
        if fields.get("project", {}).get("key") != self.project:
            errors["project"] = "Specify a valid project ID or key"
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        description = fields.get("description")
        if description is not None and (description.get("type") != "doc" or description.get("version") != 1):
            errors["description"] = "Operation value must be an Atlassian Document."
        if "duedate" in fields and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields["duedate"] or ""):
            errors["duedate"] = "Error parsing date string."
        if any(" " in label for label in fields.get("labels", [])):
            errors["labels"] = "The label can't contain spaces."
        if errors:
            return json_response({"errorMessages": [], "errors": errors}, 400)
        with self._lock:
            number = len(self.issues) + 1
            key = f"{self.project}-{number}"
            self.issues[key] = {"id": str(10000 + number), "key": key, "fields": dict(fields), "created": time.time()}
        self.faults.after_acting()
        if slow := self.faults.slow_failure():
            return trickled(json_response({"errorMessages": ["Service unavailable"], "errors": {}}, 503), slow)
        return json_response(
            {"id": str(10000 + number), "key": key, "self": f"{self.url}{ISSUE}/{10000 + number}"}, 201
        )

    def _search(self, request: Request) -> Response:
        if early := self._faulty(request):
            return early
        jql = request.args.get("jql", "")
        label = _LABEL.search(jql)
        project = _PROJECT.search(jql)
        wanted_fields = (request.args.get("fields") or "").split(",")
        with self._lock:
            issues = list(self.issues.values())
        found = [
            issue
            for issue in issues
            if self.faults.visible(issue["created"])
            and (not label or label.group(1) in issue["fields"].get("labels", []))
            and (not project or issue["key"].startswith(project.group(1) + "-"))
        ]
        if "ORDER BY created DESC" in jql:
            found.reverse()
        limit = int(request.args.get("maxResults", 50))
        page = [
            {"id": issue["id"], "key": issue["key"], "fields": {f: issue["fields"].get(f) for f in wanted_fields if f}}
            for issue in found[:limit]
        ]
        return json_response({"issues": page, "isLast": len(found) <= limit})

    def _missing(self) -> Response:
        return json_response(
            {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}, 404
        )

    def _get(self, request: Request) -> Response:
        if early := self._faulty(request):
            return early
        key = request.path.rsplit("/", 1)[1]
        issue = self.issues.get(key)
        if issue is None:
            return self._missing()
        wanted = (request.args.get("fields") or "").split(",")
        fields = {f: issue["fields"].get(f) for f in wanted if f} if wanted != [""] else issue["fields"]
        return json_response({"id": issue["id"], "key": key, "fields": fields})

    def _edit(self, request: Request) -> Response:
        if early := self._faulty(request):
            return early
        issue = self.issues.get(request.path.rsplit("/", 1)[1])
        if issue is None:
            return self._missing()
        for operation in (request.get_json().get("update") or {}).get("labels", []):
            labels = issue["fields"].setdefault("labels", [])
            if "add" in operation and operation["add"] not in labels:
                labels.append(operation["add"])
            if "remove" in operation and operation["remove"] in labels:
                labels.remove(operation["remove"])
        return Response(status=204)

    def _link(self, request: Request) -> Response:
        if early := self._faulty(request):
            return early
        body = request.get_json()
        ends = (body.get("inwardIssue", {}).get("key"), body.get("outwardIssue", {}).get("key"))
        if any(key not in self.issues for key in ends):
            return self._missing()
        link = {"type": body.get("type", {}).get("name"), "inward": ends[0], "outward": ends[1]}
        if link not in self.links:  # Jira keeps one link of a type between two issues
            self.links.append(link)
        return Response(status=201)
