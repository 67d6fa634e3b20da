"""Jira Cloud REST API v3: create issue, JQL search (``/rest/api/3/search/jql``), get issue (labels)."""

from __future__ import annotations

import base64
import re
import threading

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from . import json_response

ISSUE = "/rest/api/3/issue"
SEARCH = "/rest/api/3/search/jql"
_LABEL = re.compile(r'labels\s*=\s*"((?:[^"\\]|\\.)*)"')
_PROJECT = re.compile(r'project\s*=\s*"((?:[^"\\]|\\.)*)"')


class FakeJira:
    def __init__(self, server: HTTPServer, *, email: str, token: str, project: str = "BAKE") -> None:
        self.server = server
        self.project = project
        self.issues: dict[str, dict] = {}
        self.requests: list[dict] = []
        self._credentials = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
        self._lock = threading.Lock()
        server.expect_request(ISSUE, method="POST").respond_with_handler(self._create)
        server.expect_request(SEARCH, method="GET").respond_with_handler(self._search)
        server.expect_request(re.compile(rf"^{ISSUE}/[A-Z][A-Z0-9]*-\d+$"), method="GET").respond_with_handler(
            self._get
        )

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def _unauthorized(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != self._credentials:
            # Jira Cloud answers a bad API token with a plain-text 401.
            return Response(
                "Client must be authenticated to access this resource.", status=401, content_type="text/plain"
            )
        return None

    def _create(self, request: Request) -> Response:
        if denied := self._unauthorized(request):
            return denied
        body = request.get_json()
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
            self.issues[key] = {"id": str(10000 + number), "key": key, "fields": dict(fields)}
        return json_response(
            {"id": str(10000 + number), "key": key, "self": f"{self.url}{ISSUE}/{10000 + number}"}, 201
        )

    def _search(self, request: Request) -> Response:
        if denied := self._unauthorized(request):
            return denied
        jql = request.args.get("jql", "")
        label = _LABEL.search(jql)
        project = _PROJECT.search(jql)
        wanted_fields = (request.args.get("fields") or "").split(",")
        found = [
            issue
            for issue in reversed(list(self.issues.values()))  # ORDER BY created DESC
            if (not label or label.group(1) in issue["fields"].get("labels", []))
            and (not project or issue["key"].startswith(project.group(1) + "-"))
        ]
        limit = int(request.args.get("maxResults", 50))
        page = [
            {"id": issue["id"], "key": issue["key"], "fields": {f: issue["fields"].get(f) for f in wanted_fields if f}}
            for issue in found[:limit]
        ]
        return json_response({"issues": page, "isLast": len(found) <= limit})

    def _get(self, request: Request) -> Response:
        if denied := self._unauthorized(request):
            return denied
        key = request.path.rsplit("/", 1)[1]
        issue = self.issues.get(key)
        if issue is None:
            return json_response(
                {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}, 404
            )
        wanted = (request.args.get("fields") or "").split(",")
        fields = {f: issue["fields"].get(f) for f in wanted if f} if wanted != [""] else issue["fields"]
        return json_response({"id": issue["id"], "key": key, "fields": fields})
