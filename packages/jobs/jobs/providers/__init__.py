"""The provider registry: `JOBS_PROVIDER` name -> provider class.

A new provider is one module in this folder plus one line here. Classes are named by import path so
that an application only imports the client libraries of the provider it uses.
"""

from __future__ import annotations

import importlib

from ..settings import JobsSettings
from ..spi import JobProvider

PROVIDERS: dict[str, str] = {
    "inprocess": "jobs.providers.inprocess:InProcessProvider",
    "redis": "jobs.providers.redis_streams:RedisStreamsProvider",
    "pubsub": "jobs.providers.pubsub:PubSubProvider",
    "qstash": "jobs.providers.qstash:QStashProvider",
    "trigger": "jobs.providers.trigger:TriggerDevProvider",
}


def provider_class(name: str) -> type[JobProvider]:
    try:
        target = PROVIDERS[name]
    except KeyError:
        raise ValueError(f"unknown JOBS_PROVIDER {name!r}; choose one of {sorted(PROVIDERS)}") from None
    module, _, attr = target.partition(":")
    found = getattr(importlib.import_module(module), attr)
    if not (isinstance(found, type) and issubclass(found, JobProvider)):
        raise TypeError(f"{target} is not a JobProvider")
    return found


def build_provider(settings: JobsSettings | None = None) -> JobProvider:
    """The provider named by `settings.provider`, configured from the same settings."""
    settings = settings or JobsSettings()
    return provider_class(settings.provider).from_settings(settings)
