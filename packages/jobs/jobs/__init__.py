"""Background jobs and events behind one interface (Redis Streams, Google Pub/Sub, QStash, in-process).

The application API::

    import jobs

    @jobs.handler("audit.record", AuditEvent, description="Write one audit document")
    def record(event: AuditEvent, ctx: jobs.JobContext) -> None: ...

    job_id = jobs.dispatch("audit.record", {"event_id": ..., ...})

The provider comes from `JOBS_PROVIDER` (see `JobsSettings`); `configure()` builds it explicitly.
These module-level functions share one process-wide registry, `jobs.default_registry`; an application
that wants its types to itself builds `Dispatcher(JobRegistry(), provider)` and passes it around.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from .background import BackgroundConsumer
from .dispatcher import Dispatcher
from .errors import (
    Deferred,
    EffectError,
    InvalidPayload,
    JobsError,
    PermanentJobError,
    ProviderNotConfigured,
    PublishError,
    UnknownJobType,
    Unsupported,
)
from .registry import Handler, JobContext, JobDefinition, JobRegistry, default_registry
from .settings import JobsSettings
from .spi import Job, JobProvider

_lock = threading.Lock()
_dispatcher: Dispatcher | None = None


def register(
    job_type: str,
    model: type[BaseModel],
    handler: Handler | None = None,
    *,
    description: str = "",
    synchronous: bool = False,
) -> JobDefinition:
    """Declare a job type; `handler=None` in a process that only dispatches it."""
    return default_registry.register(job_type, model, handler, description=description, synchronous=synchronous)


def handler(
    job_type: str, model: type[BaseModel], *, description: str = "", synchronous: bool = False
) -> Callable[[Handler], Handler]:
    """Decorator: register the function as the handler of `job_type`."""
    return default_registry.handler(job_type, model, description=description, synchronous=synchronous)


def configure(settings: JobsSettings | None = None, *, provider: JobProvider | None = None) -> Dispatcher:
    """(Re)build the process-wide dispatcher; without arguments the provider comes from the environment
    (with `inprocess`, a background thread of this process then runs the handlers)."""
    global _dispatcher
    from .providers import build_provider
    from .providers.inprocess import InProcessProvider

    with _lock:
        if _dispatcher is not None and _dispatcher.provider is not provider:
            _dispatcher.provider.close()
        _dispatcher = Dispatcher(default_registry, provider or build_provider(settings))
        if provider is None and isinstance(_dispatcher.provider, InProcessProvider):
            # JOBS_PROVIDER=inprocess: nobody else will consume, so this process does, in a thread.
            _dispatcher.provider.start_background(_dispatcher.deliver)
        return _dispatcher


def get_dispatcher() -> Dispatcher:
    """The process-wide dispatcher, built from the environment on first use."""
    if _dispatcher is None:
        return configure()
    return _dispatcher


def dispatch(
    job_type: str,
    payload: BaseModel | Mapping[str, Any],
    *,
    job_id: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> str:
    """Validate `payload` against the type's model, then run inline (synchronous types) or publish.

    Raises `UnknownJobType`, `InvalidPayload` (with `.errors`, nothing sent) or `PublishError`.
    """
    return get_dispatcher().dispatch(job_type, payload, job_id=job_id, attributes=attributes)


__all__ = [
    "BackgroundConsumer",
    "Deferred",
    "Dispatcher",
    "EffectError",
    "Handler",
    "InvalidPayload",
    "Job",
    "JobContext",
    "JobDefinition",
    "JobProvider",
    "JobRegistry",
    "JobsError",
    "JobsSettings",
    "PermanentJobError",
    "ProviderNotConfigured",
    "PublishError",
    "UnknownJobType",
    "Unsupported",
    "configure",
    "default_registry",
    "dispatch",
    "get_dispatcher",
    "handler",
    "register",
]
