"""The suite's login (fleet-api's POST /auth/login), reached server-side so the web page needs no CORS."""

from __future__ import annotations

import requests
from servicekit import HttpClient
from servicekit.http import retry_after_seconds

# How long a throttled person is asked to wait when the login service names no time.
DEFAULT_RETRY_AFTER_SECONDS = 30
MAX_RETRY_AFTER_SECONDS = 3600


class LoginRefused(Exception):
    def __init__(self, status: int, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


class LoginForwarder:
    def __init__(self, login_url: str) -> None:
        self.login_url = login_url
        # One attempt: a person is waiting and presses again, and a throttled login must not count twice.
        self.http = HttpClient(login_url, "auth-login", timeout=5.0, max_attempts=1, max_total_seconds=10.0)

    def login(self, email: str, password: str) -> dict:
        """The token answer of the login service; LoginRefused: 401 bad credentials, 429 too many attempts
        (with the seconds to wait), 503 when it is down."""
        try:
            response = self.http.post(self.login_url, json={"email": email, "password": password})
        except requests.RequestException:
            raise LoginRefused(503, "The sign-in service is unreachable; retry shortly.", 5) from None
        if response.status_code in (400, 401, 403, 422):
            raise LoginRefused(401, "Wrong e-mail or password.")
        if response.status_code == 429:
            hinted = retry_after_seconds(response, cap=MAX_RETRY_AFTER_SECONDS)
            wait = max(1, round(hinted)) if hinted is not None else DEFAULT_RETRY_AFTER_SECONDS
            raise LoginRefused(429, f"Too many sign-in attempts; try again in {wait} seconds.", wait)
        if response.status_code != 200:
            raise LoginRefused(503, f"The sign-in service answered {response.status_code}; retry shortly.", 5)
        try:
            body = response.json()
            return {"access_token": str(body["access_token"]), "expires_in": int(body.get("expires_in", 0))}
        except (ValueError, KeyError, TypeError):
            raise LoginRefused(503, "The sign-in service answered something that is not a token.", 5) from None
