"""Repository access for developers, through PyGithub (a token that may administer the repository's collaborators:
a fine-grained token with "Administration: read and write" on it, or a classic token with the `repo` scope).

PyGithub's own retries are off (retry=None): the outbox retries with its backoff; its pause between writes, which
GitHub asks for to avoid secondary rate limits, stays.
"""

from __future__ import annotations

import logging
import math
import time

import requests
from github import Auth, Github, GithubException
from github.Repository import Repository

from ..settings import Settings
from .integration_errors import IntegrationError, NotConfigured, retry_after_seconds, secret, setting

log = logging.getLogger(__name__)

INTEGRATION = "github"


def _failure(action: str, exc: Exception) -> IntegrationError:
    if isinstance(exc, GithubException):
        status = exc.status or 0
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        # 403 and 429 with a rate limit message are GitHub's (secondary) rate limits: wait, then try again.
        rate_limited = status == 429 or (status == 403 and "rate limit" in (message or "").lower())
        retryable = rate_limited or status >= 500
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        retry_after = retry_after_seconds(headers.get("retry-after"))
        if retry_after is None and rate_limited and headers.get("x-ratelimit-remaining") == "0":
            # The primary rate limit says when its window resets (epoch seconds) instead of Retry-After.
            reset = retry_after_seconds(headers.get("x-ratelimit-reset"))
            retry_after = max(0.0, reset - time.time()) if reset is not None else None
        return IntegrationError(
            f"GitHub {action} failed: HTTP {status}" + (f" {message}" if message else ""),
            retryable=retryable,
            throttled=rate_limited,
            retry_after=retry_after,
        )
    return IntegrationError(f"GitHub {action} failed: {type(exc).__name__}", retryable=True)


class GithubAccess:
    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        self._settings = settings
        # PyGithub takes whole seconds (it asserts an int): rounded up, never to 0.
        self.timeout = max(1, math.ceil(timeout if timeout is not None else settings.integration_timeout_seconds))
        self._github: Github | None = None

    @property
    def configured(self) -> bool:
        s = self._settings
        return bool(s.github_token and s.github_token.get_secret_value() and s.github_repository)

    def _repo(self) -> Repository:
        if not self.configured:
            raise NotConfigured(INTEGRATION)
        if self._github is None:
            self._github = Github(
                auth=Auth.Token(secret(self._settings.github_token, INTEGRATION)),
                base_url=self._settings.github_api_url.rstrip("/"),
                timeout=self.timeout,
                retry=None,
                seconds_between_writes=self._settings.github_seconds_between_writes,
                lazy=True,  # the repository object without a GET of it first
            )
        return self._github.get_repo(setting(self._settings.github_repository, INTEGRATION))

    def grant(self, username: str) -> None:
        """Invite ``username`` as a collaborator with the configured permission (GitHub e-mails the invitation; an
        existing collaborator gets the permission updated)."""
        repo = self._repo()
        try:
            repo.add_to_collaborators(username, permission=self._settings.github_permission)
        except (GithubException, requests.RequestException) as exc:
            raise _failure("grant", exc) from exc
        log.info("github access granted", extra={"github_user": username})

    def revoke(self, username: str) -> None:
        """Withdraw a pending invitation and remove the collaborator; someone who has neither is not an error."""
        repo = self._repo()
        try:
            for invitation in repo.get_pending_invitations():
                invitee = invitation.invitee
                if invitee is not None and invitee.login.lower() == username.lower():
                    repo.remove_invitation(invitation.id)
        except (GithubException, requests.RequestException) as exc:
            raise _failure("revoke", exc) from exc
        try:
            repo.remove_from_collaborators(username)
        except GithubException as exc:
            # 404: no such collaborator (or no such account): the access is gone either way.
            if exc.status != 404:
                raise _failure("revoke", exc) from exc
        except requests.RequestException as exc:
            raise _failure("revoke", exc) from exc
        log.info("github access revoked", extra={"github_user": username})
