"""The Service Provider Interface every jobs provider implements.

A provider moves a `Job` from `publish` (caller side) to the `deliver` callback given to `consume`
(worker side). The contract, checked by tests/contract for every provider:

- at least once: a job is acknowledged only after `deliver` returned; if `deliver` raises, or the
  consumer dies before it returns, the job is delivered again later (possibly to another consumer);
- every delivery carries the job id given at publish and the attempt number (1 on the first delivery);
- a job that keeps failing is parked on a dead-letter path after `max_attempts` deliveries, or at once
  when `deliver` raises `PermanentJobError`, instead of looping forever;
- `consume` returns soon after `stop` is set, once the job in flight (if any) has finished.
"""

from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import Unsupported

#: The job attribute carrying the id of the request that caused the job, so that the producer's, the
#: relay's and the consumer's log lines of one request share it.
REQUEST_ID_ATTRIBUTE = "request_id"


def new_job_id() -> str:
    return str(uuid.uuid4())


def with_request_id(attributes: Mapping[str, str] | None, job_type: str = "") -> dict[str, str]:
    """The attributes plus the current request's id (unless they carry one already or there is none).

    Attribute keys are lowercase letters, digits, ``.`` and ``_``, so that every provider can carry them
    (as HTTP header names on the push providers): anything else is `InvalidPayload`."""
    from servicekit.logs import current_request_id

    from .errors import InvalidPayload
    from .relay_signature import valid_attribute_key

    bad = [key for key in (attributes or {}) if not valid_attribute_key(key)]
    if bad:
        errors = [
            {
                "type": "value_error",
                "loc": ["attributes", key],
                "msg": "an attribute key is lowercase letters, digits, '.' and '_'",
            }
            for key in bad
        ]
        raise InvalidPayload(job_type, errors)
    result = dict(attributes or {})
    if REQUEST_ID_ATTRIBUTE not in result and (request_id := current_request_id()):
        result[REQUEST_ID_ATTRIBUTE] = request_id
    return result


@dataclass(frozen=True)
class Job:
    """One unit of work on the wire: JSON-serialisable payload plus routing data."""

    type: str
    payload: Mapping[str, Any]
    id: str = field(default_factory=new_job_id)
    attributes: Mapping[str, str] = field(default_factory=dict)
    attempt: int = 1


@dataclass(frozen=True)
class JobStatus:
    """What a provider that keeps run state (e.g. Trigger.dev) knows of one job.

    `state` is one of `pending` (queued or delayed), `running`, `succeeded`, `failed` (retries exhausted or
    aborted), `canceled` or `expired`; `provider_status` is the provider's own word for it, `run_id` its
    handle (a Trigger.dev run id).
    """

    id: str
    type: str
    state: str
    provider_status: str
    attempts: int = 0
    run_id: str | None = None
    error: str | None = None


Deliver = Callable[[Job], None]
"""Called by a provider for each received job; returns on success, raises on failure."""


class JobProvider(ABC):
    """Base class of providers. Subclasses set `name` and implement `publish` and `consume`."""

    name: ClassVar[str]
    #: True when jobs are consumed by HTTP push (the push blueprint) rather than by `consume`.
    push_delivery: ClassVar[bool] = False
    #: True when several `consume` loops may run side by side (the worker starts JOBS_CONCURRENCY of
    #: them); False when `consume` schedules concurrent handlers itself.
    parallel_consumers: ClassVar[bool] = True

    @classmethod
    def from_settings(cls, settings: Any) -> JobProvider:
        """Build the provider from `JobsSettings` (what `JOBS_PROVIDER` selection calls)."""
        raise Unsupported(f"{cls.__name__} cannot be built from settings")

    @abstractmethod
    def publish(self, job: Job) -> None:
        """Hand the job to the broker. Raises `PublishError` if the broker did not take it."""

    @abstractmethod
    def consume(self, job_types: Iterable[str], deliver: Deliver, stop: threading.Event) -> None:
        """Receive jobs of the given types and call `deliver` for each until `stop` is set."""

    def publish_many(self, jobs: Iterable[Job]) -> None:
        """Hand several jobs to the broker; providers with a batch API override this."""
        for job in jobs:
            self.publish(job)

    def status(self, job_id: str) -> JobStatus:
        """Read a job's state back, where the provider keeps one (`LookupError` for an unknown id)."""
        raise Unsupported(f"{self.name} does not keep per-job state")

    def cancel(self, job_id: str) -> bool:
        """Cancel a job that has not finished; True if the provider canceled it."""
        raise Unsupported(f"{self.name} cannot cancel a job")

    def provision(self, job_types: Iterable[str]) -> None:  # noqa: B027 - optional hook
        """Create topics, queues, groups... idempotently. Providers that need nothing keep this."""

    def dead_letters(self, job_type: str, limit: int = 100) -> list[Job]:
        """Jobs parked on the dead-letter path, where the provider can read them back."""
        raise Unsupported(f"{self.name} does not expose its dead-letter path")

    def ping(self) -> None:  # noqa: B027 - optional hook
        """Raise if the broker cannot be reached (used by readiness checks)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def is_permanent(exc: BaseException) -> bool:
    """Failures that no retry can fix: the job goes to the dead-letter path at once."""
    from .errors import InvalidPayload, PermanentJobError

    return isinstance(exc, PermanentJobError | InvalidPayload)
