"""J.B. Hunt load board: sign in, open the map view's list tab, scroll until every page has loaded."""

from __future__ import annotations

import asyncio

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from ...domain.run_outcome import PortalFailure
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

# One call per page of the list: (scroll, then) wait for the list to settle, and report it. The list
# signals its state on #list-status: loading, more, complete or error. A MutationObserver answers as
# soon as the state changes, where polling would add its interval to every page.
NEXT_PAGE = (
    """async ([selector, before, scroll]) => {
    const s = document.querySelector(selector);
    if (!s) return null;
    const settled = () => s.dataset.state === 'error' || s.dataset.state === 'complete'
        || (s.dataset.state === 'more' && Number(s.dataset.loaded) > before);
    const arrived = new Promise(resolve => {
        if (settled()) return resolve();
        const watch = new MutationObserver(() => { if (settled()) { watch.disconnect(); resolve(); } });
        watch.observe(s, {attributes: true});
    });
    if (scroll) await ("""
    + SCROLL_TO_END
    + """)();
    await arrived;
    return [s.dataset.state, Number(s.dataset.loaded), Number(s.dataset.page || 0), s.textContent.trim()];
}"""
)


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
            raise PortalFailure("login", f"jbhunt: sign-in refused: {(error or '').strip()}", retryable=False)

    async def collect(self, page: Page, progress: PageProgress) -> list[dict]:
        await self.goto(page, self.url(BOARD_PATH))
        if LOGIN_PATH in page.url:
            raise PortalFailure("session", "jbhunt: the session was not accepted", retryable=True)
        await self.require(page, SELECTORS["table"], "the list view table")
        loaded, pages, scroll = 0, 0, False
        while pages < self.max_pages:
            try:
                state = await asyncio.wait_for(
                    page.evaluate(NEXT_PAGE, [SELECTORS["status"], loaded, scroll]), self.timeout_ms / 1000
                )
            except TimeoutError:
                raise PortalFailure(
                    "timeout",
                    f"jbhunt: page {pages + 1} of loads did not arrive within {self.timeout_ms} ms",
                    retryable=True,
                ) from None
            except PlaywrightError as exc:  # the list page went away (navigated, crashed) while we waited
                raise PortalFailure(
                    "navigation", f"jbhunt: the list page was lost: {exc.message.splitlines()[0]}", retryable=True
                ) from None
            if state is None:
                raise PortalFailure(
                    "layout",
                    f"jbhunt: the list status ({SELECTORS['status']}) not found on {page.url}; the page layout changed",
                    retryable=False,
                )
            if state[0] == "error":
                raise PortalFailure("xhr_error", f"jbhunt: loading more loads failed: {state[3]}", retryable=True)
            loaded, pages, scroll = state[1], state[2] or pages + 1, True
            await progress(pages, loaded)
            if state[0] == "complete":
                break
        return await page.eval_on_selector_all(SELECTORS["rows"], EXTRACT_ROWS)
