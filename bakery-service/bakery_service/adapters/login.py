"""The suite's login (fleet-api's POST /auth/login), reached server-side so the web page needs no CORS."""

from __future__ import annotations

import requests
from servicekit import HttpClient


class LoginRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class LoginForwarder:
    def __init__(self, login_url: str) -> None:
        self.login_url = login_url
        self.http = HttpClient(login_url, "auth-login", timeout=5.0, max_attempts=2, max_total_seconds=10.0)

    def login(self, email: str, password: str) -> dict:
        """The token answer of the login service; LoginRefused(401) on bad credentials, (503) when it is down."""
        try:
            response = self.http.post(self.login_url, json={"email": email, "password": password})
        except requests.RequestException:
            raise LoginRefused(503, "The sign-in service is unreachable; retry shortly.") from None
        if response.status_code in (400, 401, 403, 422):
            raise LoginRefused(401, "Wrong e-mail or password.")
        if response.status_code != 200:
            raise LoginRefused(503, f"The sign-in service answered {response.status_code}; retry shortly.")
        try:
            body = response.json()
            return {"access_token": str(body["access_token"]), "expires_in": int(body.get("expires_in", 0))}
        except (ValueError, KeyError, TypeError):
            raise LoginRefused(503, "The sign-in service answered something that is not a token.") from None
