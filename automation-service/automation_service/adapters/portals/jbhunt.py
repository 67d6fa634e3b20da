"""J.B. Hunt load board: sign in, open the map view's list tab, scroll until every page has loaded."""

from __future__ import annotations

from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...domain.runs import PortalFailure
from .base import PageProgress, Portal

LOGIN_PATH = "/login"
BOARD_PATH = "/loadboard/map"
SELECTORS = {
    "username": "#username",
    "password": "#password",
    "submit": "#sign-in",
    "login_error": ".alert-danger",
    "table": "table.jbh-load-table",
    "rows": "table.jbh-load-table tbody tr.jbh-load",
    "status": "#list-status",
}
TIME_FORMATS = ("%m/%d/%Y %I:%M %p",)
ZONE = "America/Chicago"

# One call per table: every row's cells keyed by their data-field attribute.
EXTRACT_ROWS = """rows => rows.map(row => Object.fromEntries(
    Array.from(row.querySelectorAll('td[data-field]'), td => [td.dataset.field, td.textContent.trim()])))"""
# The list signals its state on #list-status: loading, more, complete or error.
NEXT_STATE = """([selector, before]) => {
    const s = document.querySelector(selector);
    return s && (s.dataset.state === 'error' || s.dataset.state === 'complete'
                 || (s.dataset.state === 'more' && Number(s.dataset.loaded) > before));
}"""


# Loading on scroll: bring the end of the list into view, as a person would, once the browser has
# rendered the rows that just arrived. The list asks for the next page when its IntersectionObserver
# sees the sentinel *enter* the viewport, and observers report only at a rendering step. Scrolled
# before that step, the sentinel is still "in view" from the previous scroll when the step comes:
# no change, no report, no next page; the run stalled until the page timeout (seen under
# concurrency, when the renderer's frames lag the scraper's round trips). Waiting for the next
# animation frame and the task after it lets the observer record "out of view" first.
SCROLL_TO_END = """() => new Promise(resolve => requestAnimationFrame(() => setTimeout(() => {
    window.scrollTo(0, document.body.scrollHeight);
    resolve();
}, 0)))"""


class JBHuntPortal(Portal):
    name = "jbhunt"
    zone = ZONE
    time_formats = TIME_FORMATS
    id_field = "loadNumber"

    async def login(self, page: Page) -> None:
        await self.goto(page, self.url(LOGIN_PATH))
        await self.require(page, SELECTORS["username"], "the sign-in form")
        await page.fill(SELECTORS["username"], self.credentials.username)
        await page.fill(SELECTORS["password"], self.credentials.password)
        await self.submit(page, SELECTORS["submit"])
        if await page.query_selector(SELECTORS["login_error"]) or LOGIN_PATH in page.url:
            error = (
                await page.text_content(SELECTORS["login_error"])
                if await page.query_selector(SELECTORS["login_error"])
                else "still on the sign-in page"
            )
            raise PortalFailure("login", f"jbhunt: sign-in refused: {error.strip()}", retryable=False)

    async def collect(self, page: Page, progress: PageProgress) -> list[dict]:
        await self.goto(page, self.url(BOARD_PATH))
        if LOGIN_PATH in page.url:
            raise PortalFailure("session", "jbhunt: the session was not accepted", retryable=True)
        await self.require(page, SELECTORS["table"], "the list view table")
        loaded, pages = 0, 0
        while pages < self.max_pages:
            try:
                # Poll every 50 ms, not every animation frame: rAF polling keeps the renderer busy,
                # which the other portal's context feels on a small machine.
                await page.wait_for_function(
                    NEXT_STATE, arg=[SELECTORS["status"], loaded], timeout=self.timeout_ms, polling=50
                )
            except PlaywrightTimeout:
                raise PortalFailure(
                    "timeout",
                    f"jbhunt: page {pages + 1} of loads did not arrive within {self.timeout_ms} ms",
                    retryable=True,
                ) from None
            state = await page.eval_on_selector(
                SELECTORS["status"], "s => [s.dataset.state, s.dataset.loaded, s.dataset.page]"
            )
            if state[0] == "error":
                raise PortalFailure(
                    "xhr_error",
                    f"jbhunt: loading more loads failed: {await page.text_content(SELECTORS['status'])}",
                    retryable=True,
                )
            loaded, pages = int(state[1]), int(state[2] or pages + 1)
            await progress(pages, loaded)
            if state[0] == "complete":
                break
            await page.evaluate(SCROLL_TO_END)
        return await page.eval_on_selector_all(SELECTORS["rows"], EXTRACT_ROWS)
