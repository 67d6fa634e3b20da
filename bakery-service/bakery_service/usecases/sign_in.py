"""Sign in through the suite's login (fleet-api's), forwarded so that the web page talks to one origin only."""

from __future__ import annotations

from servicekit.domain_errors import TooManyAttempts, Unauthenticated, Unavailable

from ..adapters.login import LoginForwarder, LoginRefused
from ..domain.models import Token

# When the login service does not say how long to wait.
RETRY_AFTER_SECONDS = 5
# The problem's title for every refusal of a sign-in, whatever its status.
TITLE = "Sign-in failed"


def sign_in(login: LoginForwarder, email: str, password: str, client_address: str | None) -> Token:
    try:
        token = login.login(email, password, client_address=client_address)
    except LoginRefused as refused:
        retry_after = refused.retry_after or RETRY_AFTER_SECONDS
        if refused.reason == "credentials":
            raise Unauthenticated(refused.detail, title=TITLE) from None
        if refused.reason == "throttled":
            raise TooManyAttempts(refused.detail, retry_after=retry_after, title=TITLE) from None
        raise Unavailable(refused.detail, retry_after=retry_after, title=TITLE) from None
    return Token(access_token=token.access_token, expires_in=token.expires_in)
