"""The signature a job's push carries (the Trigger.dev relay task, and the QStash provider's own), and the
headers that carry a job's attributes.

Attributes travel as headers ``X-Job-Attr-<Key>``: an attribute key is lowercase letters, digits, ``.`` and
``_`` (``request_id``), and ``_`` is written ``-`` in the header name (``X-Job-Attr-Request-Id``), because
servers drop header names with underscores (werkzeug, gunicorn's default ``header_map=drop``, nginx). The
value is percent-encoded (RFC 3986: every byte but ``A-Z a-z 0-9 - . _ ~``), so that any text survives.

Header ``X-Jobs-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256>``, the HMAC keyed with JOBS_RELAY_SECRET
over ``"<t>.<job type>.<job id>.<attributes>." + body`` (the body's exact bytes), where ``<attributes>`` is
``key=value`` pairs, sorted by key, values percent-encoded as above, joined by ``&``. The type, id and
attributes are signed so that a captured push cannot be replayed as another job, another type or with
another request id; the timestamp bounds how long a capture is useful (QStash's own signature bounds it
on that path, so there the age is not checked).

Any header that is not exactly that (missing, non-ASCII, a part repeated or missing, a timestamp that is not
a number of at most 12 digits, a digest that is not 64 hexadecimal digits) is refused with
`RelaySignatureError`, never another exception. packages/jobs/trigger/src/signature.ts computes the same;
tests/test_trigger_relay_ts.py checks that the two agree byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote

SIGNATURE_HEADER = "X-Jobs-Signature"
ATTEMPT_HEADER = "X-Job-Attempt"
ATTRIBUTE_PREFIX = "X-Job-Attr-"
DEFAULT_TOLERANCE_SECONDS = 300
VERSION = "v2"

ATTRIBUTE_KEY = re.compile(r"[a-z0-9][a-z0-9._]{0,63}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


class RelaySignatureError(ValueError):
    pass


# --- attributes as headers ----------------------------------------------------------------------------
def valid_attribute_key(key: str) -> bool:
    return isinstance(key, str) and ATTRIBUTE_KEY.fullmatch(key) is not None


def attribute_header(key: str) -> str:
    """``request_id`` -> ``X-Job-Attr-Request-Id``."""
    return ATTRIBUTE_PREFIX + "-".join(part.capitalize() for part in key.split("_"))


def encode_value(value: str) -> str:
    return quote(str(value), safe="~")


def attribute_headers(attributes: Mapping[str, str]) -> dict[str, str]:
    """The headers that carry ``attributes``; a key that cannot be a header name raises ValueError."""
    headers = {}
    for key, value in attributes.items():
        if not valid_attribute_key(key):
            raise ValueError(f"attribute key {key!r} is not lowercase letters, digits, '.' and '_'")
        headers[attribute_header(key)] = encode_value(value)
    return headers


def attributes_from_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The attributes a request's headers carry (names that are not a valid attribute are ignored)."""
    attributes = {}
    prefix = ATTRIBUTE_PREFIX.lower()
    for name, value in headers:
        if not name.lower().startswith(prefix):
            continue
        key = name[len(prefix) :].lower().replace("-", "_")
        if valid_attribute_key(key):
            attributes[key] = unquote(value)
    return attributes


def canonical_attributes(attributes: Mapping[str, str]) -> str:
    return "&".join(f"{key}={encode_value(attributes[key])}" for key in sorted(attributes))


# --- the signature ----------------------------------------------------------------------------------------
def _digest(secret: str, timestamp: int, job_type: str, job_id: str, attributes: Mapping[str, str], body: bytes) -> str:
    message = f"{timestamp}.{job_type}.{job_id}.{canonical_attributes(attributes)}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(
    secret: str,
    job_type: str,
    job_id: str,
    body: bytes,
    attributes: Mapping[str, str] | None = None,
    *,
    now: float | None = None,
) -> str:
    """The header value for one push."""
    timestamp = int(now if now is not None else time.time())
    return f"t={timestamp},{VERSION}={_digest(secret, timestamp, job_type, job_id, attributes or {}, body)}"


def parse(header: str | None) -> tuple[int, str]:
    """(timestamp, digest) of a well-formed header; `RelaySignatureError` for anything else."""
    if not header:
        raise RelaySignatureError(f"missing {SIGNATURE_HEADER} header")
    if not header.isascii() or len(header) > 1000:
        raise RelaySignatureError(f"malformed {SIGNATURE_HEADER} header")
    parts: dict[str, str] = {}
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator:
            raise RelaySignatureError(f"malformed {SIGNATURE_HEADER} header")
        if key in parts:
            raise RelaySignatureError(f"{SIGNATURE_HEADER} repeats {key!r}")
        parts[key] = value
    timestamp, digest = parts.get("t", ""), parts.get(VERSION, "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _DIGEST.fullmatch(digest):
        raise RelaySignatureError(f"malformed {SIGNATURE_HEADER} header (t=<unix seconds>,{VERSION}=<64 hex digits>)")
    return int(timestamp), digest


def verify(
    secret: str,
    header: str | None,
    job_type: str,
    job_id: str,
    body: bytes,
    attributes: Mapping[str, str] | None = None,
    *,
    tolerance: int | None = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise `RelaySignatureError` unless `header` signs exactly this job (type, id, attributes, body), at
    most `tolerance` seconds old (None: any age)."""
    timestamp, given = parse(header)
    current = now if now is not None else time.time()
    if tolerance is not None and abs(current - timestamp) > tolerance:
        raise RelaySignatureError("signature timestamp outside the tolerance")
    if not job_id:
        raise RelaySignatureError("the job id (X-Job-Id header) is missing")
    expected = _digest(secret, timestamp, job_type, job_id, attributes or {}, body)
    if not hmac.compare_digest(given.encode("ascii"), expected.encode("ascii")):
        raise RelaySignatureError("signature does not match")
