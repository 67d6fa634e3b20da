"""GithubAccess over real HTTP against a local fake of GitHub's collaborators and invitations API."""

from __future__ import annotations

import re
import time

import pytest
from bakery_service.adapters.github import GithubAccess
from bakery_service.adapters.integration_errors import IntegrationError, NotConfigured
from bakery_service.settings import Settings

from .fakes import assert_secret_hidden, capture_everything, fail_next
from .fakes.github import FakeGithub

pytestmark = pytest.mark.integration

TOKEN = "ghp_bakery5ecr3tTOKEN"
REPO = "bakery/automation"
COLLABORATOR = re.compile(r"^/repos/bakery/automation/collaborators/[^/]+$")


@pytest.fixture()
def github(httpserver) -> FakeGithub:
    return FakeGithub(httpserver, token=TOKEN, repository=REPO, accounts={"jharrot", "octocat"})


def access(github: FakeGithub, *, token: str = TOKEN, timeout: int = 2) -> GithubAccess:
    settings = Settings(
        jwt_secret="s" * 64,
        database_url="postgresql://unused/none",
        github_token=token,
        github_repository=REPO,
        github_api_url=github.url,
    )
    return GithubAccess(settings, timeout=timeout)


def test_grant_invites_with_the_configured_permission(github, caplog) -> None:
    capture_everything(caplog)
    access(github).grant("jharrot")
    [invitation] = github.invitations.values()
    assert invitation["invitee"]["login"] == "jharrot"
    assert invitation["permissions"] == "write"
    request, _ = github.server.log[-1]
    assert request.get_json() == {"permission": "push"}
    assert_secret_hidden(TOKEN, caplog)


def test_grant_to_an_existing_collaborator_is_fine(github) -> None:
    access(github).grant("jharrot")
    github.accept("jharrot")
    access(github).grant("jharrot")
    assert github.collaborators == {"jharrot": "write"}


def test_revoke_removes_the_collaborator(github) -> None:
    access(github).grant("jharrot")
    github.accept("jharrot")
    access(github).revoke("jharrot")
    assert github.collaborators == {}


def test_revoke_withdraws_a_pending_invitation(github) -> None:
    access(github).grant("jharrot")
    access(github).grant("octocat")
    access(github).revoke("JHarrot")
    assert [i["invitee"]["login"] for i in github.invitations.values()] == ["octocat"]


def test_revoking_someone_who_is_not_a_collaborator_is_not_an_error(github) -> None:
    access(github).revoke("octocat")
    fail_next(github.server, COLLABORATOR, status=404, body={"message": "Not Found"})
    access(github).revoke("ghost")
    assert github.collaborators == {}


def test_not_configured_without_token_or_repository(github) -> None:
    for settings in (
        Settings(jwt_secret="s" * 64, database_url="postgresql://unused/none", github_repository=REPO),
        Settings(jwt_secret="s" * 64, database_url="postgresql://unused/none", github_token=TOKEN),
    ):
        unconfigured = GithubAccess(settings)
        assert not unconfigured.configured
        with pytest.raises(NotConfigured):
            unconfigured.grant("jharrot")
        with pytest.raises(NotConfigured):
            unconfigured.revoke("jharrot")
    assert github.server.log == []


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (429, {"message": "API rate limit exceeded"}, {"Retry-After": "60"}),
        (403, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": "60"}),
        (502, {"message": "Server Error"}, None),
    ],
)
def test_rate_limits_and_server_errors_are_retryable(github, caplog, status, body, headers) -> None:
    capture_everything(caplog)
    fail_next(github.server, COLLABORATOR, status=status, body=body, headers=headers)
    with pytest.raises(IntegrationError) as caught:
        access(github).grant("jharrot")
    assert caught.value.retryable
    assert caught.value.retry_after == (60 if headers else None)
    assert github.invitations == {}
    assert len(github.server.log) == 1
    assert_secret_hidden(TOKEN, caplog, caught.value)


def test_the_primary_rate_limit_waits_until_its_window_resets(github) -> None:
    reset = int(time.time()) + 120
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    fail_next(
        github.server, COLLABORATOR, status=403, body={"message": "API rate limit exceeded for user."}, headers=headers
    )
    with pytest.raises(IntegrationError) as caught:
        access(github).grant("jharrot")
    assert caught.value.throttled and 100 < caught.value.retry_after <= 120


def test_a_timeout_is_retryable(github, caplog) -> None:
    capture_everything(caplog)
    fail_next(github.server, "/repos/bakery/automation/invitations", status=200, body=[], delay=1.6)
    with pytest.raises(IntegrationError) as caught:
        access(github, timeout=1).revoke("jharrot")
    assert caught.value.retryable
    assert_secret_hidden(TOKEN, caplog, caught.value)


def test_an_unknown_account_is_not_retryable(github) -> None:
    with pytest.raises(IntegrationError) as caught:
        access(github).grant("no-such-person")
    assert not caught.value.retryable
    assert "404" in str(caught.value)


def test_a_wrong_token_is_not_retryable_and_not_shown(github, caplog) -> None:
    capture_everything(caplog)
    with pytest.raises(IntegrationError) as caught:
        access(github, token="ghp_wrongD0NTSH0W").grant("jharrot")
    assert not caught.value.retryable
    assert "401" in str(caught.value)
    assert_secret_hidden("ghp_wrongD0NTSH0W", caplog, caught.value)
