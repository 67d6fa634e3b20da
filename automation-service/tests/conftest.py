"""Fixtures of automation-service's tests: the portal simulator over real HTTP, one Chromium per
session, local file storage, and a real gpt-service process on a fake OpenAI server."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import storage
from automation_service.adapters.browser import ExtractionOptions, launch
from automation_service.adapters.portals import Credentials, JBHuntPortal, LandstarPortal
from automation_service.settings import Settings
from loadboard_sim import create_app as create_sim
from loadboard_sim.settings import SimSettings
from playwright.async_api import async_playwright
from testkit.fake_openai import FakeOpenAI, prompt_text
from testkit.servers import free_port, start_gunicorn, stop_process
from werkzeug.serving import make_server

JWT_SECRET = "test-secret-of-automation-service-0123456789"
CHROMIUM = os.environ.get("CHROMIUM_PATH", Settings.model_fields["chromium_path"].default)
REPO = Path(__file__).resolve().parents[2]
SLOW_SECONDS = 5.0
# Generous, so that a busy machine does not add retries the tests do not expect; the test of the
# "slow" fault passes a timeout shorter than SLOW_SECONDS.
TIMEOUT_MS = 15000
# The service's own default. A present element can take more than a second to be found on a loaded
# machine (each check is a round trip through Playwright's driver), which a shorter timeout reports
# as a changed layout; an absent one is absent however long the wait.
LAYOUT_TIMEOUT_MS = Settings.model_fields["layout_timeout_ms"].default


class Simulator:
    def __init__(self, settings: SimSettings) -> None:
        self.app = create_sim(settings)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def faults(self):
        return self.app.config["FAULTS"]

    def loads(self, portal: str):
        return self.app.config["LOADS"][portal]

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(SimSettings(slow_seconds=SLOW_SECONDS))
    yield simulator
    simulator.stop()


@pytest.fixture()
def clean_sim(sim: Simulator) -> Iterator[Simulator]:
    sim.faults.clear()
    sim.faults.configured = {}
    yield sim
    sim.faults.clear()
    sim.faults.configured = {}


def portals_for(
    sim_url: str, *, timeout_ms: int = TIMEOUT_MS, max_pages: int = 10, layout_timeout_ms: int = LAYOUT_TIMEOUT_MS
):
    return [
        JBHuntPortal(
            f"{sim_url}/jbhunt",
            Credentials("dispatch@example.com", "jbhunt-sim-password"),
            timeout_ms=timeout_ms,
            max_pages=max_pages,
            layout_timeout_ms=layout_timeout_ms,
        ),
        LandstarPortal(
            f"{sim_url}/landstar",
            Credentials("dispatch", "landstar-sim-password"),
            timeout_ms=timeout_ms,
            max_pages=max_pages,
            layout_timeout_ms=layout_timeout_ms,
        ),
    ]


def fast_options(**overrides: Any) -> ExtractionOptions:
    values = {
        "chromium_path": CHROMIUM,
        "max_attempts": 3,
        "backoff_seconds": 0.05,
        "backoff_max_seconds": 0.2,
    }
    values.update(overrides)
    return ExtractionOptions(**values)


class BrowserHost:
    """One Chromium for the whole session, driven from its own event loop thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.playwright = self.run(async_playwright().start())
        self.browser = self.run(launch(self.playwright, fast_options()))

    def run(self, coro, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.browser.close())
        self.run(self.playwright.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="session")
def browser_host() -> Iterator[BrowserHost]:
    host = BrowserHost()
    yield host
    host.close()


@pytest.fixture()
def files(tmp_path: Path) -> storage.Storage:
    return storage.from_settings(storage.StorageSettings(provider="local", local_root=tmp_path / "files"))


LOAD_ID = re.compile(r"\b(JBH\d{7}|LS\d{7})\b")


def score_every_load_id(request: dict) -> dict:
    """The model's answer: a note on every portal load id found in the prompt."""
    ids = list(dict.fromkeys(LOAD_ID.findall(prompt_text(request))))
    notes = [
        {
            "portal": "jbhunt" if load_id.startswith("JBH") else "landstar",
            "load_id": load_id,
            # Distinct, deterministic scores so the ranking is checkable.
            "score": round(0.30 + (int(load_id[-4:]) % 70) / 100, 2),
            "note": f"model note on {load_id}",
        }
        for load_id in ids
    ]
    return {
        "summary": "Rates are firm on the southern lanes.",
        "insights": ["Texas outbound pays best.", "Book early postings."],
        "price_trends": [{"lane": None, "direction": "up", "change_pct": 3.5, "detail": "Later postings pay more."}],
        "route_suggestions": [],
        "notes": notes,
    }


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible /v1/chat/completions that scores every load id it finds in the prompt."""
    with FakeOpenAI(score_every_load_id, model="fake-gpt-4o-mini") as fake:
        yield fake


@pytest.fixture(scope="session")
def gpt_service_url(fake_openai: FakeOpenAI) -> Iterator[str]:
    """A real gpt-service: gunicorn, one worker, on a free port, talking to the fake OpenAI server."""
    port = free_port()
    env = {
        "JWT_SECRET": JWT_SECRET,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake_openai.base_url,
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="prom-gpt-"),
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",  # gpt-service's in-process cache, whatever the caller's environment says
    }
    proc = start_gunicorn(REPO / "gpt-service", port=port, env=env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def make_portals():
    return portals_for


@pytest.fixture(scope="session")
def make_options():
    return fast_options
