"""GitHub REST API, repository collaborators and invitations:
``PUT/DELETE /repos/{owner}/{repo}/collaborators/{username}``, ``GET /repos/{owner}/{repo}/invitations``,
``DELETE /repos/{owner}/{repo}/invitations/{id}``.

As on GitHub, adding someone who is not yet a collaborator creates an invitation (201 with the invitation),
adding an existing collaborator answers 204, an unknown account is 404 and removing answers 204.
"""

from __future__ import annotations

import itertools
import re

from pytest_httpserver import HTTPServer
from testkit.faults import Faults
from werkzeug import Request, Response

from . import injected, json_response

PERMISSIONS = {"pull": "read", "triage": "triage", "push": "write", "maintain": "maintain", "admin": "admin"}


class FakeGithub:
    def __init__(self, server: HTTPServer, *, token: str, repository: str, accounts: set[str]) -> None:
        self.server = server
        self.token = token
        self.repository = repository
        self.accounts = accounts
        self.collaborators: dict[str, str] = {}  # login -> permission
        self.invitations: dict[int, dict] = {}
        self.faults = Faults()
        self.invited: list[str] = []  # every invitation ever created, by login
        self.removed: list[str] = []  # every removal answered, by login
        self._ids = itertools.count(1001)
        base = f"/repos/{repository}"
        collaborator = re.compile(rf"^{re.escape(base)}/collaborators/([^/]+)$")
        server.expect_request(collaborator, method="PUT").respond_with_handler(self._add)
        server.expect_request(collaborator, method="DELETE").respond_with_handler(self._remove)
        server.expect_request(f"{base}/invitations", method="GET").respond_with_handler(self._invitations)
        server.expect_request(
            re.compile(rf"^{re.escape(base)}/invitations/(\d+)$"), method="DELETE"
        ).respond_with_handler(self._uninvite)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def accept(self, login: str) -> None:
        """The invitee accepts: the invitation becomes a collaborator."""
        for invitation_id, invitation in list(self.invitations.items()):
            if invitation["invitee"]["login"] == login:
                self.collaborators[login] = invitation["permissions"]
                del self.invitations[invitation_id]

    def _denied(self, request: Request, payload=None) -> Response | None:
        if request.headers.get("Authorization") not in (f"token {self.token}", f"Bearer {self.token}"):
            return json_response(
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"},
                401,
            )
        return injected(
            self.faults,
            payload,
            refused=json_response({"message": "Validation Failed", "status": "422"}, 422),
            throttled_body={"message": "You have exceeded a secondary rate limit.", "status": "429"},
            failed_body={"message": "Server Error", "status": "503"},
        )

    def _user(self, login: str) -> dict:
        return {"login": login, "id": abs(hash(login)) % 10**7, "type": "User", "url": f"{self.url}/users/{login}"}

    def _add(self, request: Request) -> Response:
        login = request.path.rsplit("/", 1)[1]
        if denied := self._denied(request, {"login": login, **(request.get_json(silent=True) or {})}):
            return denied
        if login not in self.accounts:
            return json_response({"message": "Not Found", "status": "404"}, 404)
        permission = PERMISSIONS.get((request.get_json(silent=True) or {}).get("permission", "push"))
        if permission is None:
            return json_response({"message": "Validation Failed", "status": "422"}, 422)
        if login in self.collaborators:
            self.collaborators[login] = permission
            return Response(status=204)
        for invitation in self.invitations.values():
            if invitation["invitee"]["login"] == login:
                invitation["permissions"] = permission
                return json_response(invitation, 201)
        invitation_id = next(self._ids)
        invitation = {
            "id": invitation_id,
            "node_id": f"MDIwOlJlcG9zaXRvcnlJbnZpdGF0aW9u{invitation_id}",
            "repository": {"id": 1296269, "full_name": self.repository, "url": f"{self.url}/repos/{self.repository}"},
            "invitee": self._user(login),
            "inviter": self._user("bakery-bot"),
            "permissions": permission,
            "created_at": "2026-11-30T06:00:00Z",
            "expired": False,
            "url": f"{self.url}/user/repository_invitations/{invitation_id}",
            "html_url": f"https://github.com/{self.repository}/invitations",
        }
        self.invitations[invitation_id] = invitation
        self.invited.append(login)
        self.faults.after_acting()
        return json_response(invitation, 201)

    def _remove(self, request: Request) -> Response:
        login = request.path.rsplit("/", 1)[1]
        if denied := self._denied(request, {"login": login}):
            return denied
        self.collaborators.pop(login, None)
        self.removed.append(login)
        self.faults.after_acting()
        return Response(status=204)

    def _invitations(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        return json_response(list(self.invitations.values()))

    def _uninvite(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        if self.invitations.pop(int(request.path.rsplit("/", 1)[1]), None) is None:
            return json_response({"message": "Not Found", "status": "404"}, 404)
        return Response(status=204)
