"""Upstash QStash provider: each job is an HTTP push, signed by QStash, to `{JOBS_PUSH_BASE_URL}/jobs/{type}`.

Publishing goes through the `qstash` SDK (`QSTASH_TOKEN`, `QSTASH_URL`). The job id travels as the
forwarded header `X-Job-Id` and doubles as QStash's deduplication id, so an outbox row published twice
is delivered once. QStash retries a failed delivery (`Upstash-Retries` = JOBS_MAX_ATTEMPTS - 1, with its
own exponential backoff) and then moves the message to its DLQ, which `dead_letters` reads back.

Receiving is the push blueprint (`jobs.push`), mounted by the application or served by
`python -m jobs.worker`; it verifies `Upstash-Signature` with QSTASH_CURRENT/NEXT_SIGNING_KEY.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from qstash import QStash
from qstash.errors import QStashError

from ..errors import ProviderNotConfigured, PublishError
from ..settings import JobsSettings
from ..spi import Deliver, Job, JobProvider

ATTRIBUTE_HEADER = "X-Job-Attr-"


class QStashProvider(JobProvider):
    name = "qstash"
    push_delivery = True

    def __init__(
        self,
        token: str,
        push_base_url: str,
        *,
        qstash_url: str | None = None,
        max_attempts: int = 5,
        retry_delay: str | None = None,
    ):
        # Few quick client retries: a longer outage is the outbox relay's to ride out, with its backoff.
        self.client = QStash(
            token, base_url=qstash_url, retry={"retries": 2, "backoff": lambda attempt: 100 * 2**attempt}
        )
        self.push_base_url = push_base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> QStashProvider:
        if not settings.qstash_token or not settings.push_base_url:
            raise ProviderNotConfigured("JOBS_PROVIDER=qstash needs QSTASH_TOKEN and JOBS_PUSH_BASE_URL")
        return cls(
            settings.qstash_token,
            settings.push_base_url,
            qstash_url=settings.qstash_url,
            max_attempts=settings.max_attempts,
        )

    def url(self, job_type: str) -> str:
        return f"{self.push_base_url}/jobs/{job_type}"

    def publish(self, job: Job) -> None:
        headers = {"X-Job-Id": job.id, **{f"{ATTRIBUTE_HEADER}{k}": str(v) for k, v in job.attributes.items()}}
        try:
            self.client.message.publish_json(
                url=self.url(job.type),
                body=dict(job.payload),
                headers=headers,
                retries=self.max_attempts - 1,
                retry_delay=self.retry_delay,
                deduplication_id=job.id,
            )
        except (QStashError, OSError, ValueError) as exc:
            raise PublishError(f"qstash did not take job {job.id}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - httpx transport errors and the like
            raise PublishError(f"qstash unreachable for job {job.id}: {exc}") from exc

    def consume(self, job_types: Iterable[str], deliver: Deliver, stop: threading.Event) -> None:
        raise NotImplementedError(
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
