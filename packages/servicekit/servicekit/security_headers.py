"""Security headers: ``nosniff`` on every response; on HTML pages a strict Content-Security-Policy, no framing
and no referrer.

The policy allows scripts, styles, images and fetches from the page's own origin only, as files: no inline
script or style, no ``eval``, no plugins, no ``<base>``, no framing by any site (clickjacking). A view that
needs something else (servicekit's ``/docs`` has one inline style, allowed by its hash) sets its own
``Content-Security-Policy`` header, which is kept; the other headers are added when absent.
"""

from __future__ import annotations

import base64
import hashlib

HTML_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HTML_HEADERS = (
    ("Content-Security-Policy", HTML_POLICY),
    ("X-Frame-Options", "DENY"),  # frame-ancestors for browsers that predate it
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_NOSNIFF = ("X-Content-Type-Options", "nosniff")


def inline_hash(source: str) -> str:
    """The CSP source (``'sha256-...'``) that allows exactly this inline script or style."""
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def add(headers: list[tuple[str, str]]) -> None:
    """Complete a WSGI response's header list in place (cheap: one pass over a handful of headers)."""
    present = {name.lower(): value for name, value in headers}
    if "x-content-type-options" not in present:
        headers.append(_NOSNIFF)
    if present.get("content-type", "").startswith("text/html"):
        headers.extend((name, value) for name, value in HTML_HEADERS if name.lower() not in present)
