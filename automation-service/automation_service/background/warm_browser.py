"""The browser a worker keeps warm between runs: one Chromium on an event loop thread of its own, started with
the process's background work and closed with it (a servicekit Lifecycle part)."""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from playwright.async_api import Browser, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from .. import metrics
from ..adapters.browser import (
    ExtractionOptions,
    Progress,
    SaveArtifacts,
    browser_failure,
    extract_all,
    healthy,
    launch,
    no_artifacts,
    no_progress,
)
from ..adapters.portals import Portal
from ..domain.run_outcome import PortalResult

log = logging.getLogger(__name__)
T = TypeVar("T")


class WarmBrowser:
    """One Chromium per process, kept between runs on an event loop thread of its own.

    Playwright's objects belong to the loop that made them, and each run happens in a thread of the
    run executor, so every use goes through ``run``, which executes on this loop. Before each use the
    browser must answer a health check; a dead or hung one is closed and a new one launched. After
    ``idle_seconds`` without a run the browser is closed (its memory is returned) and the next run
    launches it again. Building one starts nothing; ``start()`` (the lifecycle, after gunicorn's fork) or the
    first use starts the loop thread.
    """

    def __init__(self, options: ExtractionOptions, idle_seconds: float = 600.0, health_timeout: float = 5.0) -> None:
        self.options = options
        self.idle_seconds = idle_seconds
        self.health_timeout = health_timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._in_use = 0
        self._launching = asyncio.Lock()

    def start(self) -> None:
        """Start the browser's event loop thread; Chromium itself is launched by the first run."""
        self._started_loop()

    def run(self, work: Callable[[Browser], Awaitable[T]], timeout: float | None = None) -> T:
        """``await work(browser)`` on the browser's loop; raises PlaywrightError if Chromium cannot start."""
        return self.submit(work).result(timeout)

    def submit(self, work: Callable[[Browser], Awaitable[T]]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(self._use(work), self._started_loop())

    def extract(
        self,
        portals: list[Portal],
        *,
        progress: Progress = no_progress,
        save_artifacts: SaveArtifacts = no_artifacts,
    ) -> list[PortalResult]:
        """``extract_all`` in the warm browser; a browser that cannot start fails every portal, as there."""

        async def work(browser: Browser) -> list[PortalResult]:
            return await extract_all(
                portals, self.options, progress=progress, save_artifacts=save_artifacts, browser=browser
            )

        future = self.submit(work)
        try:
            return future.result(self.options.run_timeout_seconds)
        except PlaywrightError as exc:
            return browser_failure(portals, self.options, exc)
        except FutureTimeout:
            future.cancel()
            self._discard_browser()
            reason = f"the extraction did not finish within {self.options.run_timeout_seconds:g} s"
            log.warning("%s; the browser is closed and the next run launches a new one", reason)
            return [PortalResult(portal.name, error=reason, error_kind="timeout") for portal in portals]

    def _discard_browser(self) -> None:
        with self._lock:
            loop = self._loop
        if loop is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(stop_playwright=False), loop)

    def close(self, timeout: float = 10.0) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(stop_playwright=True), loop).result(timeout)
        except Exception:  # noqa: BLE001 - closing must not raise; Chromium dies with the driver anyway
            log.warning("the warm browser did not close cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    @property
    def launched(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def _started_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="warm-browser")
                self._thread.start()
                # Chromium would die with the driver anyway; closing it lets it flush and exit cleanly.
                atexit.register(self.close)
            return self._loop

    async def _use(self, work: Callable[[Browser], Awaitable[T]]) -> T:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self._in_use += 1
        try:
            return await work(await self._ready_browser())
        finally:
            self._in_use -= 1
            if self._in_use == 0 and self.idle_seconds >= 0:
                self._idle = asyncio.get_running_loop().call_later(
                    self.idle_seconds, lambda: asyncio.ensure_future(self._shutdown_if_idle())
                )

    async def _ready_browser(self) -> Browser:
        async with self._launching:
            return await self._check_or_launch()

    async def _check_or_launch(self) -> Browser:
        if self._browser is not None:
            if await healthy(self._browser, self.health_timeout):
                return self._browser
            metrics.BROWSER_RELAUNCHES.inc()
            log.warning("the warm browser stopped answering; launching a new one")
            await self._shutdown(stop_playwright=False)
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        self._browser = await launch(self._playwright, self.options)
        return self._browser

    async def _shutdown_if_idle(self) -> None:
        if self._in_use == 0:
            await self._shutdown(stop_playwright=False)

    async def _shutdown(self, *, stop_playwright: bool) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                await asyncio.wait_for(browser.close(), self.health_timeout)
            except (PlaywrightError, TimeoutError):
                log.warning(
                    "Chromium did not close within %s s; leaving it to its driver", self.health_timeout, exc_info=True
                )
        if stop_playwright and self._playwright is not None:
            playwright, self._playwright = self._playwright, None
            await playwright.stop()
