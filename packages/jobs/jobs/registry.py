"""Job types known to an application: name -> pydantic model, handler, description, sync flag."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import InvalidPayload, UnknownJobType


@dataclass(frozen=True)
class JobContext:
    """What a handler learns about the delivery besides its payload."""

    id: str
    type: str
    attempt: int = 1
    attributes: dict[str, str] = field(default_factory=dict)
    provider: str = ""


Handler = Callable[[Any, JobContext], Any]
# Named before JobDefinition, whose field `type` shadows the builtin inside its body.
ModelClass = type[BaseModel]


@dataclass(frozen=True)
class JobDefinition:
    type: str
    model: ModelClass
    handler: Handler | None
    description: str = ""
    synchronous: bool = False

    def validate(self, payload: Any) -> BaseModel:
        if isinstance(payload, self.model):
            return payload
        try:
            return self.model.model_validate(payload)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False, include_input=False)
            raise InvalidPayload(self.type, [dict(e) for e in errors]) from None


class JobRegistry:
    """Where an application declares its job types (and, in a consumer, their handlers).

    A producer that only dispatches may register a type with `handler=None`: the payload is still
    validated before it leaves the process.
    """

    def __init__(self) -> None:
        self._definitions: dict[str, JobDefinition] = {}

    def register(
        self,
        job_type: str,
        model: type[BaseModel],
        handler: Handler | None = None,
        *,
        description: str = "",
        synchronous: bool = False,
    ) -> JobDefinition:
        if not job_type or any(c.isspace() or c == "/" for c in job_type):
            raise ValueError(f"job type {job_type!r} must be non-empty without spaces or '/'")
        existing = self._definitions.get(job_type)
        if (
            existing is not None
            and existing.handler is not None
            and handler is not None
            and existing.handler is not handler
        ):
            raise ValueError(f"job type {job_type!r} already has a handler")
        if existing is not None and handler is None:
            handler = existing.handler
        definition = JobDefinition(
            job_type, model, handler, description or (existing.description if existing else ""), synchronous
        )
        self._definitions[job_type] = definition
        return definition

    def handler(
        self, job_type: str, model: type[BaseModel], *, description: str = "", synchronous: bool = False
    ) -> Callable[[Handler], Handler]:
        """Decorator form of `register`."""

        def decorate(fn: Handler) -> Handler:
            self.register(
                job_type, model, fn, description=description or (fn.__doc__ or "").strip(), synchronous=synchronous
            )
            return fn

        return decorate

    def get(self, job_type: str) -> JobDefinition:
        try:
            return self._definitions[job_type]
        except KeyError:
            raise UnknownJobType(job_type) from None

    def __contains__(self, job_type: object) -> bool:
        return job_type in self._definitions

    def __iter__(self) -> Iterator[JobDefinition]:
        return iter(list(self._definitions.values()))

    def types(self, *, with_handler: bool = False) -> list[str]:
        return [d.type for d in self if d.handler is not None or not with_handler]

    def clear(self) -> None:
        self._definitions.clear()


default_registry = JobRegistry()
"""The process-wide registry of `jobs.register`, `jobs.handler` and `jobs.configure` (and the worker's
`--app` functions). Named apart from this module so that ``jobs.registry`` is always the module; code that
builds more than one app per process (tests, the audit-worker) passes a `JobRegistry` of its own instead."""
