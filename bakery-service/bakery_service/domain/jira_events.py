"""Jira's webhook deliveries: whose signature is trusted, and which event cancels orders.

The body is trusted only when its HMAC-SHA256 under the shared secret matches ``X-Hub-Signature``
(``sha256=<hex>``), computed over the raw bytes as received. Any other header (missing, another scheme, not
64 hexadecimal digits, non-ASCII, repeated parts) is refused the same way: 401, never an error of ours.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from servicekit.domain_errors import Unauthenticated

MISSING_INGREDIENTS = "missing-ingredients"
CLOSED_STATUSES = {"closed", "done", "resolved"}
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def verify_signature(secret: str | None, body: bytes, header: str | None) -> None:
    if not secret:
        raise Unauthenticated(
            "The Jira webhook secret is not configured (JIRA_WEBHOOK_SECRET); deliveries are refused."
        )
    scheme, _, given = (header or "").partition("=")
    given = given.strip().lower()
    # Checked for shape first: compare_digest refuses non-ASCII text with a TypeError.
    well_formed = scheme.strip().lower() == "sha256" and _HEX_DIGEST.fullmatch(given) is not None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not well_formed or not hmac.compare_digest(given.encode("ascii"), expected.encode("ascii")):
        raise Unauthenticated("The X-Hub-Signature header is missing or does not match the body.")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def closed_with_missing_ingredients(issue: dict[str, Any]) -> bool:
    fields = _object(issue.get("fields"))
    status = _object(fields.get("status"))
    category = _object(status.get("statusCategory")).get("key")
    closed = category == "done" or str(status.get("name", "")).lower() in CLOSED_STATUSES
    labels = fields.get("labels")
    return closed and isinstance(labels, list) and MISSING_INGREDIENTS in labels
