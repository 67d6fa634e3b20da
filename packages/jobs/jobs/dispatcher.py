"""The facade the applications call: validate, then run inline or hand to the provider."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from servicekit.logs import request_id_context

from . import metrics
from .errors import PublishError
from .registry import JobContext, JobDefinition, JobRegistry
from .spi import REQUEST_ID_ATTRIBUTE, Job, JobProvider, new_job_id, with_request_id

log = logging.getLogger("jobs")


class Dispatcher:
    """Ties a registry of job types to one provider.

    `dispatch` is the producer side; `deliver` is the callback a provider (or the push blueprint)
    calls for each received job.
    """

    def __init__(self, registry: JobRegistry, provider: JobProvider):
        self.registry = registry
        self.provider = provider

    def validate(self, job_type: str, payload: Any) -> dict[str, Any]:
        """The payload as JSON-ready data, or `InvalidPayload` / `UnknownJobType`."""
        model = self.registry.get(job_type).validate(payload)
        return model.model_dump(mode="json")

    def dispatch(
        self,
        job_type: str,
        payload: BaseModel | Mapping[str, Any],
        *,
        job_id: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> str:
        """Validate the payload and send the job; returns its id.

        A synchronous job type runs inline, in the caller's thread, and its handler's exception
        propagates to the caller.
        """
        definition = self.registry.get(job_type)
        data = definition.validate(payload).model_dump(mode="json")
        job = Job(
            type=job_type, payload=data, id=job_id or new_job_id(), attributes=with_request_id(attributes, job_type)
        )
        self.send(job, definition)
        return job.id

    def send(self, job: Job, definition: JobDefinition | None = None) -> None:
        """Send an already validated job (the outbox relay calls this)."""
        if definition is None and job.type in self.registry:
            definition = self.registry.get(job.type)
        # A type this process does not know (a relay publishing for others) is simply published.
        if definition is not None and definition.synchronous and definition.handler is not None:
            self.deliver(job)
            return
        try:
            self.provider.publish(job)
        except PublishError:
            raise
        except Exception as exc:  # the broker's own errors, whatever its client raises
            raise PublishError(f"{self.provider.name} did not accept job {job.id}: {exc}") from exc
        metrics.published.labels(job.type, self.provider.name).inc()
        log.info(
            "job published",
            extra={
                "job_id": job.id,
                "job_type": job.type,
                "provider": self.provider.name,
                "request_id": job.attributes.get(REQUEST_ID_ATTRIBUTE),
            },
        )

    def deliver(self, job: Job) -> Any:
        """Run the handler of a received job; raises if the payload is invalid or the handler fails."""
        labels = (job.type, self.provider.name)
        metrics.received.labels(*labels).inc()
        if job.attempt > 1:
            metrics.retried.labels(*labels).inc()
        definition = self.registry.get(job.type)
        if definition.handler is None:
            raise LookupError(f"job type {job.type!r} has no handler in this process")
        payload = definition.validate(job.payload)
        context = JobContext(
            id=job.id, type=job.type, attempt=job.attempt, attributes=dict(job.attributes), provider=self.provider.name
        )
        started = time.perf_counter()
        try:
            with request_id_context(job.attributes.get(REQUEST_ID_ATTRIBUTE)):
                result = definition.handler(payload, context)
        except Exception:
            metrics.failed.labels(*labels).inc()
            log.warning(
                "job failed",
                exc_info=True,
                extra={
                    "job_id": job.id,
                    "job_type": job.type,
                    "attempt": job.attempt,
                    "request_id": job.attributes.get(REQUEST_ID_ATTRIBUTE),
                },
            )
            raise
        finally:
            metrics.duration.labels(*labels).observe(time.perf_counter() - started)
        metrics.succeeded.labels(*labels).inc()
        return result
