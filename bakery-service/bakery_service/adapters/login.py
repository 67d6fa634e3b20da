"""The suite's login (fleet-api's POST /auth/login), reached server-side so the web page needs no CORS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import requests
from servicekit import HttpClient
from servicekit.http import retry_after_seconds

#: Why a sign-in did not go through: wrong credentials, too many attempts, the login service unreachable.
RefusalReason = Literal["credentials", "throttled", "unavailable"]


class LoginRefused(Exception):
    def __init__(self, reason: RefusalReason, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginToken:
    access_token: str
    expires_in: int


class LoginForwarder:
    def __init__(self, login_url: str) -> None:
        self.login_url = login_url
        self.http = HttpClient(login_url, "auth-login", timeout=5.0, max_attempts=2, max_total_seconds=10.0)

    def login(self, email: str, password: str, client_address: str | None = None) -> LoginToken:
        """The token answer of the login service; LoginRefused ("credentials") on bad credentials, ("throttled")
        when it throttles this account or address, ("unavailable") when it is down.

        ``client_address`` (the browser's, as this service sees it) goes as ``X-Forwarded-For``: the login service
        counts failures per address against it only if it trusts this service as a proxy (fleet-api's
        TRUSTED_PROXIES); otherwise every sign-in through this page counts against this service's address."""
        headers = {"X-Forwarded-For": client_address} if client_address else {}
        try:
            response = self.http.post(self.login_url, json={"email": email, "password": password}, headers=headers)
        except requests.RequestException:
            raise LoginRefused("unavailable", "The sign-in service is unreachable; retry shortly.") from None
        if response.status_code in (400, 401, 403, 422):
            raise LoginRefused("credentials", "Wrong e-mail or password.")
        if response.status_code == 429:
            wait = retry_after_seconds(response, cap=86_400)
            seconds = max(1, round(wait)) if wait is not None else 60
            raise LoginRefused("throttled", f"Too many failed sign-ins; try again in {seconds} s.", retry_after=seconds)
        if response.status_code != 200:
            raise LoginRefused("unavailable", f"The sign-in service answered {response.status_code}; retry shortly.")
        try:
            body = response.json()
            return LoginToken(str(body["access_token"]), int(body.get("expires_in", 0)))
        except (ValueError, KeyError, TypeError):
            raise LoginRefused("unavailable", "The sign-in service answered something that is not a token.") from None
