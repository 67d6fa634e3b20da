"""Landstar available loads: sign in, read the grid page by page following the pager's Next link."""

from __future__ import annotations

from playwright.async_api import Page

from ...domain.run_outcome import PortalFailure
from .base import PageProgress, Portal

LOGIN_PATH = "/Account/Login"
LOADS_PATH = "/loadspublic"
SELECTORS = {
    "username": "#UserName",
    "password": "#Password",
    "submit": "#btnLogin",
    "login_error": ".field-validation-error",
    "table": "#tblAvailableLoads",
    "next": "a.pager-next",
}
# Grid headers -> our field names; columns are found by header text, not position.
COLUMNS = {
    "Load #": "id",
    "Posted (Eastern)": "posted",
    "Origin": "origin",
    "Destination": "destination",
    "Pickup": "pickup",
    "Est. Delivery": "eta",
    "Trailer": "equipment",
    "Wt (lbs)": "weight",
    "Miles": "miles",
    "Rate": "rate",
}
TIME_FORMATS = ("%d %b %Y %H:%M",)
ZONE = "America/New_York"

# One call per table (and page): the header row and every data row as lists of cell texts, and the
# pager's next link, so a page costs one round trip to the browser.
EXTRACT_TABLE = """(tables, nextSelector) => ({
    tables: tables.map(t => Array.from(t.rows, r => Array.from(r.cells, c => c.textContent.trim()))),
    next: document.querySelector(nextSelector)?.getAttribute('href') ?? null,
})"""


class LandstarPortal(Portal):
    name = "landstar"
    zone = ZONE
    time_formats = TIME_FORMATS
    id_field = "id"

    async def login(self, page: Page) -> None:
        await self.goto(page, self.url(LOGIN_PATH))
        await self.require(page, SELECTORS["username"], "the log-in form")
        await page.fill(SELECTORS["username"], self.credentials.username)
        await page.fill(SELECTORS["password"], self.credentials.password)
        await self.submit(page, SELECTORS["submit"])
        error = await page.query_selector(SELECTORS["login_error"])
        if error or LOGIN_PATH in page.url:
            text = (await error.text_content() or "").strip() if error else "still on the log-in page"
            raise PortalFailure("login", f"landstar: log-in refused: {text}", retryable=False)

    async def open_first_page(self, page: Page) -> None:
        await self.goto(page, self.url(LOADS_PATH))
        if LOGIN_PATH in page.url:
            raise PortalFailure("session", "landstar: the session was not accepted", retryable=True)

    async def read_page(self, page: Page) -> tuple[list[dict], str | None]:
        """The rows of the page on screen and the URL of the next page (None on the last)."""
        # The grid is server-rendered: once the document is parsed it is there, or the layout changed.
        found = await page.eval_on_selector_all(SELECTORS["table"], EXTRACT_TABLE, SELECTORS["next"])
        if not found["tables"]:
            await self.require(page, SELECTORS["table"], "the available-loads grid")
            found = await page.eval_on_selector_all(SELECTORS["table"], EXTRACT_TABLE, SELECTORS["next"])
        header, *rows = found["tables"][0]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise PortalFailure("layout", f"landstar: grid columns {missing} are gone", retryable=False)
        index = {COLUMNS[name]: header.index(name) for name in COLUMNS}
        parsed = [{field: row[i] for field, i in index.items()} for row in rows if len(row) == len(header)]
        return parsed, found["next"]

    async def collect(self, page: Page, progress: PageProgress) -> list[dict]:
        await self.open_first_page(page)
        rows: list[dict] = []
        for number in range(1, self.max_pages + 1):
            found, next_href = await self.read_page(page)
            rows.extend(found)
            await progress(number, len(rows))
            if not next_href:
                break
            await self.goto(page, self.absolute(next_href))
        return rows

    def absolute(self, href: str) -> str:
        if href.startswith("http"):
            return href
        scheme_host = self.base_url.split("/", 3)[:3]
        return "/".join(scheme_host) + href if href.startswith("/") else f"{self.base_url}/{href}"

    def equipment(self, printed: str) -> str | None:
        # Landstar prints equipment in capitals ("DRY VAN"); the other portal and the model use "Dry Van".
        return printed.title() or None
