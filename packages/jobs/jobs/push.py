"""One request handler for push delivery: `POST /jobs/<type>`, mountable by any Flask service.

    from jobs.push import push_blueprint
    app.register_blueprint(push_blueprint(jobs.get_dispatcher(), QStashVerifier.from_settings(...)))

Answers: 401 when the signature is missing, malformed or wrong (checked first, so that unsigned callers
learn nothing; whatever the header holds, never a 500), 404 for an unknown job type, 422 when the payload
fails validation (permanent: a retry cannot fix it), 200 only after the handler succeeded, 500 when it
raised so that the sender retries, and 489 with `Upstash-NonRetryable-Error: true` when the handler raised
`PermanentJobError` (QStash then stops retrying and moves the message to its DLQ). Errors are
application/problem+json.

Two senders are trusted, each by its verifier: the Trigger.dev relay task (`X-Jobs-Signature`, an HMAC
with JOBS_RELAY_SECRET over the job's type, id, attributes and body, `TriggerRelayVerifier`) and QStash
(`Upstash-Signature`, QStash's JWT over the URL and body, plus the same `X-Jobs-Signature`, made by the
publishing side, for what QStash does not sign: the job's id and attributes; `QStashVerifier`).
`verifier_from_settings` picks the one of the configured provider.

The job id comes from the `X-Job-Id` header (QStash forwards `Upstash-Forward-X-Job-Id` as it); the
attributes from `X-Job-Attr-<Key>` headers (`X-Job-Attr-Request-Id`: names without underscores, which
servers drop; see `jobs.relay_signature`); the attempt from `X-Job-Attempt` (the relay sends Trigger.dev's
attempt number) or `Upstash-Retried` (0 on the first try).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from flask import Blueprint, Response, request
from servicekit import problem_response, public
from servicekit.validation import json_depth_exceeds, max_json_depth
from werkzeug.datastructures import Headers

from . import relay_signature
from .dispatcher import Dispatcher
from .errors import InvalidPayload, PermanentJobError, ProviderNotConfigured, UnknownJobType
from .settings import JobsSettings
from .spi import Job

# What a verifier reads a request's headers from: Flask's (case-insensitive) Headers, or a plain mapping.
HeaderSource = Mapping[str, str] | Headers

log = logging.getLogger("jobs.push")


class SignatureInvalid(Exception):
    pass


class PushVerifier(Protocol):
    def verify(
        self,
        *,
        headers: HeaderSource,
        body: bytes,
        url: str,
        job_type: str,
        job_id: str,
        attributes: Mapping[str, str],
    ) -> None:
        """Raise `SignatureInvalid` unless the request was signed by the sender we trust."""


class TriggerRelayVerifier:
    """Checks `X-Jobs-Signature`, which the Trigger.dev relay task computes with JOBS_RELAY_SECRET
    (see `jobs.relay_signature`), at most `tolerance` seconds old."""

    def __init__(self, secret: str, *, tolerance: int | None = relay_signature.DEFAULT_TOLERANCE_SECONDS):
        self.secret = secret
        self.tolerance = tolerance

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> TriggerRelayVerifier:
        if not settings.relay_secret:
            raise ProviderNotConfigured("JOBS_RELAY_SECRET is required to accept jobs relayed by Trigger.dev")
        return cls(settings.relay_secret)

    def verify(
        self,
        *,
        headers: HeaderSource,
        body: bytes,
        url: str,
        job_type: str,
        job_id: str,
        attributes: Mapping[str, str],
    ) -> None:
        try:
            relay_signature.verify(
                self.secret,
                headers.get(relay_signature.SIGNATURE_HEADER),
                job_type,
                job_id,
                body,
                attributes,
                tolerance=self.tolerance,
            )
        except relay_signature.RelaySignatureError as exc:
            raise SignatureInvalid(str(exc)) from None


class QStashVerifier:
    """Checks `Upstash-Signature` with the QStash SDK's `Receiver` (current key, then next key): the push
    comes from QStash, for this URL and body, now. Then `X-Jobs-Signature` (of any age: QStash's bounds the
    push's), which the publishing side made with JOBS_RELAY_SECRET: the job's id and attributes are the
    ones published."""

    upstash_header = "Upstash-Signature"

    def __init__(
        self,
        current_signing_key: str,
        next_signing_key: str,
        relay_secret: str,
        *,
        check_url: bool = True,
        clock_tolerance: int = 5,
    ):
        from qstash import Receiver

        self.receiver = Receiver(current_signing_key=current_signing_key, next_signing_key=next_signing_key)
        self.job = TriggerRelayVerifier(relay_secret, tolerance=None)
        self.check_url = check_url
        self.clock_tolerance = clock_tolerance

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> QStashVerifier:
        if not settings.qstash_current_signing_key or not settings.qstash_next_signing_key:
            raise ProviderNotConfigured(
                "QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY are required to accept pushed jobs"
            )
        if not settings.relay_secret:
            raise ProviderNotConfigured("JOBS_RELAY_SECRET is required to accept jobs pushed by QStash")
        return cls(settings.qstash_current_signing_key, settings.qstash_next_signing_key, settings.relay_secret)

    def verify(
        self,
        *,
        headers: HeaderSource,
        body: bytes,
        url: str,
        job_type: str,
        job_id: str,
        attributes: Mapping[str, str],
    ) -> None:
        signature = headers.get(self.upstash_header)
        if not signature:
            raise SignatureInvalid(f"missing {self.upstash_header} header")
        try:
            self.receiver.verify(
                signature=signature,
                body=body.decode("utf-8", errors="replace"),
                url=url if self.check_url else None,
                clock_tolerance=self.clock_tolerance,
            )
        except Exception as exc:  # noqa: BLE001 - a malformed token raises whatever its parser raises
            raise SignatureInvalid(f"{self.upstash_header} rejected: {type(exc).__name__}") from None
        self.job.verify(headers=headers, body=body, url=url, job_type=job_type, job_id=job_id, attributes=attributes)


def verifier_from_settings(settings: JobsSettings) -> PushVerifier:
    """The verifier of the configured push provider: Trigger.dev's relay, or QStash."""
    if settings.provider == "trigger":
        return TriggerRelayVerifier.from_settings(settings)
    return QStashVerifier.from_settings(settings)


def _problem(status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    return problem_response(status, title, detail, headers=headers, **extra)


def _attempt(headers: HeaderSource) -> int:
    try:
        if relay_signature.ATTEMPT_HEADER in headers:
            attempt = int(headers[relay_signature.ATTEMPT_HEADER])
        else:
            attempt = int(headers.get("Upstash-Retried", "0")) + 1
    except ValueError:
        return 1
    return min(max(1, attempt), 1_000_000)


def push_blueprint(
    dispatcher: Dispatcher,
    verifier: PushVerifier,
    *,
    public_base_url: str | None = None,
    name: str = "jobs_push",
    url_prefix: str = "",
) -> Blueprint:
    """The blueprint; `public_base_url` is the URL the sender signed (e.g. `JOBS_PUSH_BASE_URL`) when the
    service sits behind a proxy that changes scheme or host."""
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)

    def receive(job_type: str) -> Response:
        raw = request.get_data(cache=True)
        url = f"{public_base_url.rstrip('/')}/jobs/{job_type}" if public_base_url else request.base_url
        job_id = request.headers.get("X-Job-Id") or request.headers.get("Upstash-Message-Id") or ""
        attributes = relay_signature.attributes_from_headers(request.headers.items())
        try:
            verifier.verify(
                headers=request.headers, body=raw, url=url, job_type=job_type, job_id=job_id, attributes=attributes
            )
        except SignatureInvalid as exc:
            return _problem(401, "Unauthorized", f"push signature rejected: {exc}")
        except Exception as exc:  # noqa: BLE001 - a header no verifier foresaw is still a refusal, not an error
            log.warning("push signature check failed unexpectedly", exc_info=True)
            return _problem(401, "Unauthorized", f"push signature rejected: {type(exc).__name__}")
        body = raw.decode("utf-8", errors="replace")
        if job_type not in dispatcher.registry or dispatcher.registry.get(job_type).handler is None:
            return _problem(404, "Not Found", f"no handler for job type {job_type!r}")
        limit = max_json_depth()
        if json_depth_exceeds(raw, limit):
            # Before json.loads, whose recursion a deep enough body would exhaust.
            return _problem(400, "JSON nested too deeply", f"The body nests deeper than {limit} levels.")
        try:
            # Any JSON value: the job type's model validates it when the job is delivered.
            payload: Any = json.loads(body) if body else None
        except ValueError:
            return _problem(422, "Unprocessable Content", "the body is not JSON")
        if not job_id:
            return _problem(422, "Unprocessable Content", "the job id (X-Job-Id header) is missing")
        attempt = _attempt(request.headers)
        job = Job(
            type=job_type,
            payload=payload,
            id=job_id,
            attempt=attempt,
            attributes=attributes,
        )
        try:
            dispatcher.deliver(job)
        except InvalidPayload as exc:
            return _problem(
                422, "Unprocessable Content", "the payload does not match the job type's model", errors=exc.errors
            )
        except UnknownJobType:
            return _problem(404, "Not Found", f"no handler for job type {job_type!r}")
        except PermanentJobError as exc:
            # QStash stops retrying on 489 and sends the message to its DLQ at once; the Trigger.dev relay
            # task aborts the run (AbortTaskRunError), which fails it without further attempts.
            return _problem(
                489,
                "Job Failed Permanently",
                str(exc) or "the handler refused the job",
                headers={"Upstash-NonRetryable-Error": "true"},
            )
        except Exception:  # noqa: BLE001 - any handler failure: 500, and the sender retries
            return _problem(500, "Job Failed", "the handler failed; the sender will retry", job_id=job_id)
        return Response(
            json.dumps({"id": job_id, "type": job_type, "status": "done"}), status=200, mimetype="application/json"
        )

    # Authenticated by the push signature, not by servicekit's JWT guard.
    receive = public(receive)
    blueprint.add_url_rule("/jobs/<job_type>", "receive", receive, methods=["POST"])
    return blueprint
