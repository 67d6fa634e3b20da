"""Upstash QStash provider: each job is an HTTP push, signed by QStash, to `{JOBS_PUSH_BASE_URL}/jobs/{type}`.

Publishing goes through the `qstash` SDK (`QSTASH_TOKEN`, `QSTASH_URL`). The job id travels as the
forwarded header `X-Job-Id` and doubles as QStash's deduplication id, so an outbox row published twice
is delivered once; the attributes as forwarded `X-Job-Attr-<Key>` headers. QStash signs the URL and the
body only, so the provider signs the job's type, id, attributes and body itself (`X-Jobs-Signature`, with
JOBS_RELAY_SECRET; see `jobs.relay_signature`) and the push endpoint checks both. QStash retries a failed
delivery (`Upstash-Retries` = JOBS_MAX_ATTEMPTS - 1, with its own exponential backoff) and then moves the
message to its DLQ, which `dead_letters` reads back. A 429 from QStash is a `PublishError` marked throttled,
with the time its rate limit resets, so that the outbox waits exactly that long.

Receiving is the push blueprint (`jobs.push`), mounted by the application or served by
`python -m jobs.worker`; it verifies `Upstash-Signature` with QSTASH_CURRENT/NEXT_SIGNING_KEY and
`X-Jobs-Signature` with JOBS_RELAY_SECRET.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpx
from qstash import QStash
from qstash.errors import DailyMessageLimitExceededError, QStashError, RateLimitExceededError

from .. import relay_signature
from ..errors import ProviderNotConfigured, PublishError, Unsupported
from ..settings import JobsSettings
from ..spi import Deliver, Job, JobProvider


class QStashProvider(JobProvider):
    name = "qstash"
    push_delivery = True

    def __init__(
        self,
        token: str,
        push_base_url: str,
        relay_secret: str,
        *,
        qstash_url: str | None = None,
        max_attempts: int = 5,
        retry_delay: str | None = None,
        timeout: float = 10.0,
    ):
        # Few quick client retries: a longer outage is the outbox relay's to ride out, with its backoff.
        self.client = QStash(
            token, base_url=qstash_url, retry={"retries": 2, "backoff": lambda attempt: 100 * 2**attempt}
        )
        # The SDK waits up to 10 minutes for an answer; a publish is one small request.
        self.client.http._client.timeout = httpx.Timeout(timeout)
        self.push_base_url = push_base_url.rstrip("/")
        self.relay_secret = relay_secret
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> QStashProvider:
        if not settings.qstash_token or not settings.push_base_url or not settings.relay_secret:
            raise ProviderNotConfigured(
                "JOBS_PROVIDER=qstash needs QSTASH_TOKEN, JOBS_PUSH_BASE_URL and JOBS_RELAY_SECRET"
            )
        return cls(
            settings.qstash_token,
            settings.push_base_url,
            settings.relay_secret,
            qstash_url=settings.qstash_url,
            max_attempts=settings.max_attempts,
        )

    def url(self, job_type: str) -> str:
        return f"{self.push_base_url}/jobs/{job_type}"

    def publish(self, job: Job) -> None:
        # Serialised here so that the bytes signed are the bytes QStash delivers.
        body = json.dumps(dict(job.payload), separators=(",", ":"), ensure_ascii=False).encode()
        attributes = {k: str(v) for k, v in job.attributes.items()}
        headers = {
            "X-Job-Id": job.id,
            **relay_signature.attribute_headers(attributes),
            relay_signature.SIGNATURE_HEADER: relay_signature.sign(
                self.relay_secret, job.type, job.id, body, attributes
            ),
        }
        try:
            self.client.message.publish(
                url=self.url(job.type),
                body=body,
                content_type="application/json",
                headers=headers,
                retries=self.max_attempts - 1,
                retry_delay=self.retry_delay,
                deduplication_id=job.id,
            )
        except (RateLimitExceededError, DailyMessageLimitExceededError) as exc:
            raise PublishError(
                f"qstash rate limits job {job.id}: {exc}", throttled=True, retry_after=_reset_in(exc.reset)
            ) from exc
        except QStashError as exc:
            # "Request failed with status: 400, body: ..."; a 4xx other than 429 will not change.
            status = _status(str(exc))
            permanent = status is not None and 400 <= status < 500 and status not in (401, 403, 408)
            raise PublishError(f"qstash did not take job {job.id}: {exc}", permanent=permanent) from exc
        except (OSError, ValueError) as exc:
            raise PublishError(f"qstash did not take job {job.id}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - httpx transport errors and the like
            raise PublishError(f"qstash unreachable for job {job.id}: {exc}") from exc

    def consume(self, job_types: Iterable[str], deliver: Deliver, stop: threading.Event) -> None:
        raise Unsupported(
            "QStash pushes jobs over HTTP: mount jobs.push.push_blueprint (python -m jobs.worker serves it)"
        )

    def dead_letters(self, job_type: str, limit: int = 100) -> list[Job]:
        result = self.client.dlq.list(count=limit, filter={"url": self.url(job_type)})
        return [self._job(job_type, m) for m in result.messages]

    @staticmethod
    def _job(job_type: str, message: Any) -> Job:
        headers = {k.lower(): (v[0] if isinstance(v, list) and v else v) for k, v in (message.headers or {}).items()}
        job_id = headers.get("upstash-forward-x-job-id") or headers.get("x-job-id") or message.message_id
        return Job(
            type=job_type, payload=json.loads(message.body or "null"), id=job_id, attempt=message.max_retries + 1
        )

    def ping(self) -> None:
        self.client.signing_key.get()


def _status(message: str) -> int | None:
    found = re.search(r"status: (\d{3})", message)
    return int(found.group(1)) if found else None


def _reset_in(reset: str | None) -> float | None:
    """Seconds until a QStash rate limit resets (its reset headers are unix times, in seconds or ms)."""
    try:
        value = float(reset) if reset is not None else None
    except ValueError:
        return None
    if value is None:
        return None
    if value > 1e11:  # milliseconds
        value /= 1000
    return max(0.0, value - time.time())
