"""The process's life: build_dependencies builds and opens nothing; create_app starts the lifecycle (the report of
the model's state) and servicekit.close_app ends it."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest
from gpt_service import create_app
from gpt_service.wiring import build_dependencies
from prometheus_client import REGISTRY
from servicekit import close_app
from servicekit.lifecycle import lifecycle_of
from testkit.lifecycle import assert_closed_for_good
from testkit.listeners import connected, silent_listeners

from ..conftest import make_settings

pytestmark = pytest.mark.integration


@pytest.fixture()
def listeners() -> Iterator[list[socket.socket]]:
    with silent_listeners(2) as servers:
        yield servers


def url(server: socket.socket, scheme: str, path: str) -> str:
    return f"{scheme}://127.0.0.1:{server.getsockname()[1]}{path}"


def test_build_dependencies_starts_no_thread_and_connects_to_nothing(listeners):
    model_server, redis_server = listeners
    settings = make_settings(
        openai_api_key="sk-test",
        openai_base_url=url(model_server, "http", "/v1"),
        redis_url=url(redis_server, "redis", "/0"),
    )
    threads = set(threading.enumerate())
    deps = build_dependencies(settings)
    assert set(threading.enumerate()) == threads
    assert deps.model is not None and deps.model.model == "gpt-4o-mini"
    assert not connected(model_server), "the model's server was connected to while building"
    assert not connected(redis_server), "Redis was connected to while building"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture()
def package_lines() -> Iterator[Lines]:
    logger, lines = logging.getLogger("gpt_service"), Lines()
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(lines)
    logger.setLevel(level)


def configured() -> float | None:
    return REGISTRY.get_sample_value("gpt_model_configured")


def test_create_app_reports_the_model_state_and_close_app_ends_the_lifecycle(settings_for, package_lines):
    without_key = create_app(make_settings(openai_api_key=None))
    lifecycle = lifecycle_of(without_key)
    assert lifecycle is not None and lifecycle.running
    assert configured() == 0
    assert [m for m in package_lines.messages if m.startswith("no OpenAI API key")]
    close_app(without_key)
    assert_closed_for_good(without_key)

    # Not started: nothing reported; started: the model is configured and its series exist at zero.
    package_lines.messages.clear()
    keyed = create_app(settings_for(), start_background=False)
    held = lifecycle_of(keyed)
    assert held is not None and not held.running
    assert configured() == 0
    held.start()
    try:
        assert configured() == 1
        assert REGISTRY.get_sample_value("gpt_tokens_total", {"kind": "prompt", "model": "gpt-4o-mini"}) is not None
        assert not package_lines.messages
    finally:
        close_app(keyed)
