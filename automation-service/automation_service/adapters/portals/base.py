"""What every portal adapter shares: navigation that turns portal trouble into ``PortalFailure``."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Response
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ... import metrics
from ...domain.extracted_loads import Load, NormalisationError, parse_int, parse_local_time, parse_place, parse_price
from ...domain.run_outcome import PortalFailure

# Called after each page of loads is read: (pages so far, rows so far).
PageProgress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


class Portal(ABC):
    """One load board. A subclass keeps its URLs and selectors in one place (its module's constants),
    so pointing it at the real portal is a change of configuration and selectors only."""

    name: str
    zone: str  # the portal prints its times in this zone, without saying so
    time_formats: tuple[str, ...]
    id_field: str  # the row field holding the portal's own load id

    def __init__(
        self, base_url: str, credentials: Credentials, *, timeout_ms: int, max_pages: int, layout_timeout_ms: int = 5000
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.timeout_ms = timeout_ms
        self.max_pages = max_pages
        self.layout_timeout_ms = layout_timeout_ms

    def url(self, path: str) -> str:
        return self.base_url + path

    @abstractmethod
    async def login(self, page: Page) -> None:
        """Sign in; raises PortalFailure('login', retryable=False) when the portal refuses the credentials."""

    @abstractmethod
    async def collect(self, page: Page, progress: PageProgress) -> list[dict]:
        """Every row of every page (bounded by max_pages), as the portal prints it."""

    def normalise(self, row: dict) -> Load:
        """One printed row (fields named by the adapter's extraction script) -> a Load.

        Raises NormalisationError for a row that cannot be read.
        """
        price, currency = parse_price(row.get("rate"))
        posted_at = parse_local_time(row["posted"], self.time_formats, self.zone)
        if posted_at is None:
            raise NormalisationError(f"no posting time for {row.get(self.id_field)!r}")
        return Load(
            portal=self.name,
            portal_load_id=row[self.id_field],
            origin=parse_place(row["origin"]),
            destination=parse_place(row["destination"]),
            price=price,
            currency=currency,
            price_text=row.get("rate", ""),
            posted_at=posted_at,
            pickup_at=parse_local_time(row.get("pickup"), self.time_formats, self.zone),
            eta=parse_local_time(row.get("eta"), self.time_formats, self.zone),
            equipment=self.equipment(row.get("equipment") or ""),
            weight_lbs=parse_int(row.get("weight")),
            miles=parse_int(row.get("miles")),
        )

    def equipment(self, printed: str) -> str | None:
        return printed or None

    async def goto(self, page: Page, url: str) -> Response | None:
        started = time.perf_counter()
        try:
            response = await page.goto(url, wait_until="domcontentloaded", timeout=self.timeout_ms)
        except PlaywrightTimeout:
            raise PortalFailure(
                "timeout", f"{self.name}: {url} did not load within {self.timeout_ms} ms", retryable=True
            ) from None
        except PlaywrightError as exc:
            raise PortalFailure(
                "navigation", f"{self.name}: {url}: {exc.message.splitlines()[0]}", retryable=True
            ) from None
        metrics.PAGE_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        check_status(self.name, url, response)
        return response

    async def submit(self, page: Page, button: str) -> None:
        """Click a form's submit button and wait for the page it leads to."""
        try:
            async with page.expect_navigation(wait_until="domcontentloaded", timeout=self.timeout_ms) as nav:
                await page.click(button, timeout=self.timeout_ms)
            response = await nav.value
        except PlaywrightTimeout:
            raise PortalFailure(
                "timeout", f"{self.name}: sign-in did not answer within {self.timeout_ms} ms", retryable=True
            ) from None
        check_status(self.name, page.url, response)

    async def require(self, page: Page, selector: str, what: str) -> None:
        """The element the adapter relies on must be there; if not, the portal changed its markup."""
        try:
            # Shorter than a navigation: the page has loaded by now, the element is late only on
            # script-rendered pages, and a missing one should not cost a full navigation timeout.
            await page.wait_for_selector(selector, state="attached", timeout=self.layout_timeout_ms)
        except PlaywrightTimeout:
            raise PortalFailure(
                "layout",
                f"{self.name}: {what} ({selector}) not found on {page.url}; the page layout changed",
                retryable=False,
            ) from None


def check_status(portal: str, url: str, response: Response | None) -> None:
    if response is None:
        return
    if response.status >= 500 or response.status == 429:
        raise PortalFailure(
            "http_5xx" if response.status >= 500 else "http_429",
            f"{portal}: {url} answered HTTP {response.status}",
            retryable=True,
        )
