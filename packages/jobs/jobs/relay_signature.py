"""The signature a job relay (the Trigger.dev task in packages/jobs/trigger/) puts on each push.

Header `X-Jobs-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC keyed with JOBS_RELAY_SECRET over
`"<t>.<job type>.<job id>." + body` (the body's exact bytes). The type and id are signed so that a captured
push cannot be replayed as another job or another type; the timestamp bounds how long a capture is useful.
packages/jobs/trigger/src/signature.ts computes the same string; tests/test_trigger_relay_ts.py checks that
the two agree byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Jobs-Signature"
ATTEMPT_HEADER = "X-Job-Attempt"
DEFAULT_TOLERANCE_SECONDS = 300


class RelaySignatureError(ValueError):
    pass


def _digest(secret: str, timestamp: int, job_type: str, job_id: str, body: bytes) -> str:
    message = f"{timestamp}.{job_type}.{job_id}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, job_type: str, job_id: str, body: bytes, *, now: float | None = None) -> str:
    """The header value for one push (what the relay task sends)."""
    timestamp = int(now if now is not None else time.time())
    return f"t={timestamp},v1={_digest(secret, timestamp, job_type, job_id, body)}"


def verify(
    secret: str,
    header: str | None,
    job_type: str,
    job_id: str,
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise `RelaySignatureError` unless `header` signs exactly this job within `tolerance` seconds."""
    if not header:
        raise RelaySignatureError(f"missing {SIGNATURE_HEADER} header")
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise RelaySignatureError(f"malformed {SIGNATURE_HEADER} header") from None
    current = now if now is not None else time.time()
    if abs(current - timestamp) > tolerance:
        raise RelaySignatureError("signature timestamp outside the tolerance")
    if not job_id:
        raise RelaySignatureError("the job id (X-Job-Id header) is missing")
    if not hmac.compare_digest(given, _digest(secret, timestamp, job_type, job_id, body)):
        raise RelaySignatureError("signature does not match")
