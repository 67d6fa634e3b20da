"""The application API: registration, validation, synchronous jobs, settings and the provider registry."""

from __future__ import annotations

import jobs
import pytest
from jobs import InvalidPayload, JobContext, JobProvider, JobsSettings, UnknownJobType, Unsupported
from jobs.dispatcher import Dispatcher
from jobs.providers import PROVIDERS, build_provider, provider_class
from jobs.providers.inprocess import InProcessProvider
from jobs.registry import JobRegistry
from pydantic import BaseModel


class Batch(BaseModel):
    day: str
    orders: int


def test_synchronous_job_runs_inline_and_its_error_reaches_the_caller() -> None:
    registry = JobRegistry()
    provider = InProcessProvider()
    ran: list[tuple[str, int]] = []

    def build(batch: Batch, ctx: JobContext) -> None:
        if batch.orders < 0:
            raise ValueError("negative")
        ran.append((ctx.id, batch.orders))

    registry.register("bakery.daily_batch", Batch, build, synchronous=True)
    dispatcher = Dispatcher(registry, provider)

    job_id = dispatcher.dispatch("bakery.daily_batch", Batch(day="2026-11-22", orders=3))
    assert ran == [(job_id, 3)]
    assert provider.pending() == 0  # nothing went through the provider
    with pytest.raises(ValueError):
        dispatcher.dispatch("bakery.daily_batch", {"day": "2026-11-22", "orders": -1})


def test_module_level_api_with_the_in_process_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "default_registry", JobRegistry())
    monkeypatch.setattr(jobs, "_dispatcher", None)
    monkeypatch.setenv("JOBS_PROVIDER", "inprocess")
    seen: list[int] = []

    @jobs.handler("bakery.order_ready", Batch, description="Tell the customer")
    def ready(batch: Batch, ctx: JobContext) -> None:
        seen.append(batch.orders)

    provider = jobs.get_dispatcher().provider
    assert isinstance(provider, InProcessProvider)
    jobs.dispatch("bakery.order_ready", {"day": "2026-11-22", "orders": 2})
    assert provider.join(5)
    assert seen == [2]
    assert jobs.default_registry.get("bakery.order_ready").description == "Tell the customer"
    with pytest.raises(InvalidPayload):
        jobs.dispatch("bakery.order_ready", {"day": "2026-11-22"})
    with pytest.raises(UnknownJobType):
        jobs.dispatch("nope", {})


def test_registry_refuses_a_second_handler_and_bad_names() -> None:
    registry = JobRegistry()
    registry.register("a.b", Batch, lambda b, c: None)
    with pytest.raises(ValueError):
        registry.register("a.b", Batch, lambda b, c: None)
    for bad in ("", "with space", "a/b"):
        with pytest.raises(ValueError):
            registry.register(bad, Batch)


def test_settings_from_environment_and_secret_files(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    secret = tmp_path / "token"
    secret.write_text("file-token\n")
    monkeypatch.setenv("JOBS_PROVIDER", "qstash")
    monkeypatch.setenv("QSTASH_TOKEN_FILE", str(secret))
    monkeypatch.setenv("JOBS_PUSH_BASE_URL", "https://bakery.example.com")
    monkeypatch.setenv("JOBS_MAX_ATTEMPTS", "7")

    settings = JobsSettings()
    assert (settings.provider, settings.qstash_token, settings.max_attempts) == ("qstash", "file-token", 7)
    monkeypatch.setenv("QSTASH_TOKEN", "env-token")
    assert JobsSettings().qstash_token == "env-token"


def test_every_registered_provider_builds_and_unknown_names_are_explained() -> None:
    assert set(PROVIDERS) == {"inprocess", "redis", "pubsub", "qstash", "trigger"}
    for name in PROVIDERS:
        assert provider_class(name).name == name
    with pytest.raises(ValueError, match="choose one of"):
        provider_class("kafka")
    with pytest.raises(jobs.ProviderNotConfigured):
        build_provider(JobsSettings(JOBS_PROVIDER="qstash"))
    with pytest.raises(jobs.ProviderNotConfigured):
        build_provider(JobsSettings(JOBS_PROVIDER="trigger"))


def test_the_registry_module_is_not_shadowed_by_the_process_wide_instance() -> None:
    import types

    import jobs.registry

    assert isinstance(jobs.registry, types.ModuleType)
    assert jobs.registry.default_registry is jobs.default_registry
    assert isinstance(jobs.default_registry, JobRegistry)


def test_a_job_dispatched_while_serving_a_request_carries_its_id_to_the_handler() -> None:
    from servicekit.logs import current_request_id, request_id_context

    registry = JobRegistry()
    provider = InProcessProvider()
    seen: list[tuple[str | None, str | None]] = []
    registry.register(
        "bakery.order_ready",
        Batch,
        lambda b, ctx: seen.append((ctx.attributes.get("request_id"), current_request_id())),
    )
    dispatcher = Dispatcher(registry, provider)
    with request_id_context("req-42"):
        dispatcher.dispatch("bakery.order_ready", {"day": "2026-11-22", "orders": 1})
        # An id the producer sets itself is kept.
        dispatcher.dispatch("bakery.order_ready", {"day": "2026-11-22", "orders": 2}, attributes={"request_id": "own"})
    dispatcher.dispatch("bakery.order_ready", {"day": "2026-11-22", "orders": 3})
    stop = provider.start_background(dispatcher.deliver)
    assert provider.join(5)
    stop.set()
    assert seen == [("req-42", "req-42"), ("own", "own"), (None, None)]


def test_a_provider_without_an_optional_capability_says_so_as_unsupported() -> None:
    """status, cancel, dead_letters and from_settings are optional: a provider that lacks one raises
    `Unsupported` (a NotImplementedError, so older callers still catch it) naming the provider."""

    class Minimal(JobProvider):
        name = "minimal"

        def publish(self, job):
            pass

        def consume(self, job_types, deliver, stop):
            pass

    provider = Minimal()
    calls = [
        lambda: provider.status("job-1"),
        lambda: provider.cancel("job-1"),
        lambda: provider.dead_letters("load.assigned"),
        lambda: Minimal.from_settings(JobsSettings()),
    ]
    for call in calls:
        with pytest.raises(Unsupported, match="(?i)minimal") as raised:
            call()
        assert isinstance(raised.value, NotImplementedError)
