"""Headless Chromium: one browser, one context per portal, both portals read concurrently.

A process keeps one Chromium warm between runs (background/warm_browser.py): launching one costs more than a
portal's whole extraction on a small machine. Each context loads only what the extraction reads:
documents, scripts and XHR from the portal's own host; images, fonts, stylesheets, media and every
third-party request are refused before they leave the browser.

Login and navigation are retried with exponential backoff and full jitter (tenacity) when the
failure is transient (timeouts, 5xx, a lost session, an XHR error); a refused login or a changed
layout is not retried. A portal that still fails leaves a screenshot and its HTML for diagnosis
and does not stop the other portal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from .. import metrics
from ..domain.extracted_loads import NormalisationError, most_recent
from ..domain.run_outcome import PortalFailure, PortalResult
from .portals import Portal

log = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-gpu",
]
# What no extraction reads: refused in the browser, never fetched.
BLOCKED_RESOURCE_TYPES = frozenset({"image", "media", "font", "stylesheet", "texttrack", "manifest"})

# (portal, fields) -> None: per-portal progress for GET /runs/<id>.
Progress = Callable[[str, dict], Awaitable[None]]
# (portal, screenshot png, html) -> keys of the saved artifacts.
SaveArtifacts = Callable[[str, bytes | None, str | None], Awaitable[list[str]]]


@dataclass(frozen=True)
class ExtractionOptions:
    chromium_path: str
    loads_per_portal: int = 20
    max_attempts: int = 3
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    block_resources: bool = True
    # The whole extraction, every portal and retry included: past it the run ends with the portals failed,
    # rather than waiting on a browser that stopped answering.
    run_timeout_seconds: float = 600.0


async def no_progress(portal: str, fields: dict) -> None:
    return None


async def no_artifacts(portal: str, png: bytes | None, html: str | None) -> list[str]:
    return []


async def launch(playwright: Playwright, options: ExtractionOptions) -> Browser:
    try:
        browser = await playwright.chromium.launch(
            executable_path=options.chromium_path, headless=True, args=CHROMIUM_ARGS
        )
    except PlaywrightError:
        metrics.BROWSER_LAUNCHES.labels("failure").inc()
        raise
    metrics.BROWSER_LAUNCHES.labels("success").inc()
    return browser


async def healthy(browser: Browser, timeout: float = 5.0) -> bool:
    """The browser answers a protocol round trip in time: connected is not enough for a hung one."""
    if not browser.is_connected():
        return False
    try:
        session = await asyncio.wait_for(browser.new_browser_cdp_session(), timeout)
        try:
            await asyncio.wait_for(session.send("Browser.getVersion"), timeout)
        finally:
            await session.detach()
    except (PlaywrightError, TimeoutError):
        return False
    return True


def browser_failure(portals: list[Portal], options: ExtractionOptions, exc: PlaywrightError) -> list[PortalResult]:
    reason = f"Chromium did not start ({options.chromium_path}): {exc.message.splitlines()[0]}"
    return [PortalResult(portal.name, error=reason, error_kind="browser") for portal in portals]


async def extract_all(
    portals: list[Portal],
    options: ExtractionOptions,
    *,
    progress: Progress = no_progress,
    save_artifacts: SaveArtifacts = no_artifacts,
    browser: Browser | None = None,
) -> list[PortalResult]:
    """Every portal's most recent loads; never raises for a portal's failure (see PortalResult.error).

    Without ``browser`` the call launches a browser of its own and closes it after; a service passes
    the one its ``WarmBrowser`` keeps.
    """
    if browser is not None:
        return await _extract_with(browser, portals, options, progress, save_artifacts)
    async with async_playwright() as playwright:
        try:
            browser = await launch(playwright, options)
        except PlaywrightError as exc:
            return browser_failure(portals, options, exc)
        try:
            return await _extract_with(browser, portals, options, progress, save_artifacts)
        finally:
            await browser.close()


async def _extract_with(
    browser: Browser,
    portals: list[Portal],
    options: ExtractionOptions,
    progress: Progress,
    save_artifacts: SaveArtifacts,
) -> list[PortalResult]:
    # One context per portal: separate cookies and sessions, one Chromium process.
    return list(
        await asyncio.gather(
            *(extract_portal(browser, portal, options, progress, save_artifacts) for portal in portals)
        )
    )


def _retrying(portal: str, target: str, options: ExtractionOptions) -> AsyncRetrying:
    def before_sleep(state: RetryCallState) -> None:
        metrics.RETRIES.labels(portal, target).inc()
        log.warning(
            "%s %s failed (attempt %d), retrying: %s",
            portal,
            target,
            state.attempt_number,
            state.outcome.exception() if state.outcome else "",
        )

    return AsyncRetrying(
        retry=retry_if_exception(lambda exc: isinstance(exc, PortalFailure) and exc.retryable),
        stop=stop_after_attempt(options.max_attempts),
        wait=wait_random_exponential(multiplier=options.backoff_seconds, max=options.backoff_max_seconds),
        before_sleep=before_sleep,
        reraise=True,
    )


async def extract_portal(
    browser: Browser,
    portal: Portal,
    options: ExtractionOptions,
    progress: Progress,
    save_artifacts: SaveArtifacts,
) -> PortalResult:
    result = PortalResult(portal.name)
    started = time.perf_counter()
    try:
        context = await open_context(browser, portal, options)
        page = await context.new_page()
    except PlaywrightError as exc:
        # The browser died between runs' health checks: this run fails, the next one relaunches it.
        result.error, result.error_kind = f"{portal.name}: browser error: {exc.message.splitlines()[0]}", "browser"
        result.duration_seconds = round(time.perf_counter() - started, 3)
        metrics.BROWSER_FAILURES.labels(portal.name, result.error_kind).inc()
        await _finish(result, progress)
        return result
    page.set_default_timeout(portal.timeout_ms)

    async def fresh_page_for(attempt) -> None:
        # A timed-out navigation may still be pending in the old page and abort the next one;
        # a new page in the same context keeps the session cookies without that baggage.
        nonlocal page
        if attempt.retry_state.attempt_number > 1:
            await page.close()
            page = await context.new_page()
            page.set_default_timeout(portal.timeout_ms)

    async def page_read(pages: int, rows: int) -> None:
        result.pages = pages
        await progress(portal.name, {"state": "extracting", "pages": pages, "rows_seen": rows})

    try:
        await progress(portal.name, {"state": "logging_in"})
        async for attempt in _retrying(portal.name, "login", options):
            with attempt:
                result.attempts += 1
                await fresh_page_for(attempt)
                await portal.login(page)
        async for attempt in _retrying(portal.name, "navigation", options):
            with attempt:
                result.attempts += 1
                await fresh_page_for(attempt)
                rows = await portal.collect(page, page_read)
        result.seen = len(rows)
        loads = []
        for row in rows:
            try:
                loads.append(portal.normalise(row))
            except (NormalisationError, KeyError, ValueError) as exc:
                result.skipped += 1
                log.warning("%s: skipped a row that cannot be normalised: %s", portal.name, exc)
        result.loads = most_recent(loads, options.loads_per_portal)
        if not result.loads:
            raise PortalFailure("empty", f"{portal.name}: no load could be read from {len(rows)} rows", retryable=False)
    except PortalFailure as exc:
        result.error, result.error_kind = str(exc), exc.kind
    except PlaywrightError as exc:
        result.error, result.error_kind = (
            f"{portal.name}: browser error: {exc.message.splitlines()[0]}",
            "browser",
        )
    finally:
        result.duration_seconds = round(time.perf_counter() - started, 3)
    if result.error:
        result.artifacts = await _capture(page, portal.name, save_artifacts)
        metrics.BROWSER_FAILURES.labels(portal.name, result.error_kind).inc()
    try:
        await context.close()
    except PlaywrightError:
        log.warning("%s: the browser context did not close", portal.name)
    await _finish(result, progress)
    return result


async def open_context(browser: Browser, portal: Portal, options: ExtractionOptions) -> BrowserContext:
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    if options.block_resources:
        await context.route("**/*", only_what_the_portal_needs(portal))
    return context


async def _finish(result: PortalResult, progress: Progress) -> None:
    outcome = "success" if result.ok else "failure"
    metrics.PORTAL_RUNS.labels(result.portal, outcome).inc()
    metrics.EXTRACTION_SECONDS.labels(result.portal, outcome).observe(result.duration_seconds)
    metrics.LOADS_EXTRACTED.labels(result.portal).inc(len(result.loads))
    metrics.ROWS_SKIPPED.labels(result.portal).inc(result.skipped)
    await progress(
        result.portal,
        {
            "state": "done" if result.ok else "failed",
            "loads": len(result.loads),
            "rows_seen": result.seen,
            "rows_skipped": result.skipped,
            "pages": result.pages,
            "attempts": result.attempts,
            "duration_seconds": result.duration_seconds,
            "error": result.error,
            "error_kind": result.error_kind,
            "artifacts": result.artifacts,
        },
    )


def only_what_the_portal_needs(portal: Portal) -> Callable[[Route], Awaitable[None]]:
    """A route handler: the portal's own documents, scripts and XHR go on; the rest is refused."""
    host = urlsplit(portal.base_url).netloc

    async def handle(route: Route) -> None:
        request = route.request
        if request.resource_type in BLOCKED_RESOURCE_TYPES or urlsplit(request.url).netloc != host:
            await route.abort("blockedbyclient")
        else:
            await route.continue_()

    return handle


async def _capture(page: Page, portal: str, save_artifacts: SaveArtifacts) -> list[str]:
    """Screenshot and HTML of the page as the scraper last saw it; best effort, never masks the failure."""
    png = html = None
    try:
        png = await page.screenshot(full_page=True, timeout=5000)
        html = await page.content()
    except PlaywrightError as exc:
        log.warning("%s: could not capture the failed page: %s", portal, exc.message.splitlines()[0])
    try:
        keys = await save_artifacts(portal, png, html)
    except Exception as exc:  # noqa: BLE001 - diagnostics must not turn a portal failure into a crash
        metrics.ARTIFACTS.labels(portal, "failure").inc()
        log.warning("%s: could not store failure artifacts: %s", portal, exc)
        return []
    metrics.ARTIFACTS.labels(portal, "success").inc()
    return keys
