"""The portal adapters in real headless Chromium against the simulator over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from automation_service import metrics
from automation_service.adapters.artifacts import FailureArtifacts
from automation_service.adapters.browser import extract_all
from automation_service.adapters.portals import jbhunt
from loadboard_sim.data import price_text
from playwright.async_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.integration
SLOW_TIMEOUT_MS = 2500  # shorter than the simulator's slow fault (conftest.SLOW_SECONDS)


@pytest.fixture()
def extract(browser_host, make_portals, make_options):
    """Run the extraction of both portals in the session's browser; returns (results by portal, progress)."""

    def run(sim, *, files=None, timeout_ms=15000, **option_overrides):
        progress: list[tuple[str, dict]] = []

        async def record(portal, fields):
            progress.append((portal, dict(fields)))

        artifacts = FailureArtifacts("automation/failures", "test-run", files)
        results = browser_host.run(
            extract_all(
                make_portals(sim.url, timeout_ms=timeout_ms),
                make_options(**option_overrides),
                progress=record,
                save_artifacts=artifacts.save_async,
                browser=browser_host.browser,
            )
        )
        return {r.portal: r for r in results}, progress

    return run


def _retries(portal: str, target: str) -> float:
    return metrics.RETRIES.labels(portal, target)._value.get()


def test_both_portals_give_their_20_most_recent_loads_across_pages(extract, clean_sim):
    results, progress = extract(clean_sim)
    for portal, pages in (("jbhunt", 4), ("landstar", 3)):
        result = results[portal]
        assert result.ok, result.error
        assert (result.seen, result.pages, result.skipped) == (len(clean_sim.loads(portal)), pages, 0)
        truth = sorted(clean_sim.loads(portal), key=lambda x: x.posted_at, reverse=True)[:20]
        assert [x.portal_load_id for x in result.loads] == [x.load_id for x in truth]
        by_id = {x.load_id: x for x in truth}
        for load in result.loads:
            expected = by_id[load.portal_load_id]
            assert load.posted_at == expected.posted_at and load.eta == expected.eta
            assert load.posted_at.utcoffset() is not None
            assert (load.origin.city, load.origin.state) == expected.origin
            assert load.miles == expected.miles and load.weight_lbs == expected.weight_lbs
            assert load.price_text == price_text(expected)
            if expected.price_style in ("call", "blank"):
                assert load.price is None and load.currency is None
            else:
                assert load.price == Decimal(f"{expected.price:.2f}") and load.currency == "USD"
        assert {x.price_style for x in truth} >= {"dollars", "plain"}
        states = [fields["state"] for name, fields in progress if name == portal]
        assert states[0] == "logging_in" and "extracting" in states and states[-1] == "done"
    # Pages were actually crossed: the most recent 20 are not the first page's rows.
    first_page = {x.load_id for x in clean_sim.loads("jbhunt")[:12]}
    assert {x.portal_load_id for x in results["jbhunt"].loads} - first_page


def test_a_500_on_the_list_is_retried_and_the_run_goes_on(extract, clean_sim):
    clean_sim.faults.arm("landstar", "500", stage="list", times=2)
    clean_sim.faults.arm("jbhunt", "500", stage="api", times=1)
    before = _retries("landstar", "navigation"), _retries("jbhunt", "navigation")
    results, _ = extract(clean_sim)
    assert results["landstar"].ok and len(results["landstar"].loads) == 20
    assert results["jbhunt"].ok and len(results["jbhunt"].loads) == 20
    assert results["landstar"].attempts == 1 + 3 and results["jbhunt"].attempts == 1 + 2
    assert results["jbhunt"].pages == 4 and results["landstar"].pages == 3
    assert _retries("landstar", "navigation") - before[0] == 2
    assert _retries("jbhunt", "navigation") - before[1] == 1


def test_a_slow_login_times_out_once_then_succeeds(extract, clean_sim):
    clean_sim.faults.arm("jbhunt", "slow", stage="login", times=1)
    before = _retries("jbhunt", "login")
    results, _ = extract(clean_sim, timeout_ms=SLOW_TIMEOUT_MS)
    assert results["jbhunt"].ok and len(results["jbhunt"].loads) == 20
    assert _retries("jbhunt", "login") - before >= 1
    assert results["jbhunt"].duration_seconds >= SLOW_TIMEOUT_MS / 1000


def test_a_page_of_the_list_that_does_not_arrive_in_time_is_retried(extract, clean_sim):
    clean_sim.faults.arm("jbhunt", "slow", stage="api", times=1)
    before = _retries("jbhunt", "navigation")
    results, _ = extract(clean_sim, timeout_ms=SLOW_TIMEOUT_MS)
    assert results["jbhunt"].ok and len(results["jbhunt"].loads) == 20 and results["jbhunt"].pages == 4
    assert _retries("jbhunt", "navigation") - before == 1
    assert results["jbhunt"].duration_seconds >= SLOW_TIMEOUT_MS / 1000


def test_a_refused_login_is_not_retried_and_leaves_a_screenshot_and_html(extract, clean_sim, files):
    clean_sim.faults.configured = {"landstar": "login"}
    results, progress = extract(clean_sim, files=files)
    failed = results["landstar"]
    assert failed.error_kind == "login" and "incorrect" in failed.error and failed.attempts == 1
    assert not failed.loads
    assert results["jbhunt"].ok and len(results["jbhunt"].loads) == 20
    png_key, html_key = sorted(failed.artifacts, key=lambda k: not k.endswith(".png"))
    assert png_key.startswith("automation/failures/test-run/landstar-") and html_key.endswith(".html")
    assert files.get(png_key)[:8] == b"\x89PNG\r\n\x1a\n"
    assert b'id="UserName"' in files.get(html_key)
    assert progress[-1][0] == "landstar" or any(f.get("state") == "failed" for _, f in progress)


def test_a_changed_layout_fails_that_portal_only(extract, clean_sim, files):
    clean_sim.faults.configured = {"jbhunt": "layout"}
    results, _ = extract(clean_sim, files=files)
    assert results["jbhunt"].error_kind == "layout" and "list view table" in results["jbhunt"].error
    assert results["jbhunt"].attempts == 2  # login, then one look at the board: no retry of a layout change
    assert b"new load board" in files.get(next(k for k in results["jbhunt"].artifacts if k.endswith(".html")))
    assert results["landstar"].ok


def test_a_portal_that_keeps_failing_gives_up_after_the_attempts(extract, clean_sim, files):
    clean_sim.faults.configured = {"landstar": "500"}
    results, _ = extract(clean_sim, files=files, max_attempts=2)
    assert results["landstar"].error_kind == "http_5xx" and "HTTP 500" in results["landstar"].error
    assert results["landstar"].attempts == 2
    assert results["jbhunt"].ok


def test_a_missing_chromium_fails_every_portal_with_the_reason(clean_sim, make_portals, make_options):
    import asyncio

    results = asyncio.run(extract_all(make_portals(clean_sim.url), make_options(chromium_path="/nonexistent/chrome")))
    assert [r.error_kind for r in results] == ["browser", "browser"]
    assert "/nonexistent/chrome" in results[0].error


# Scrolls from inside the page at the worst moment: in the task that appended a page's rows and set the
# list's state, before the browser renders them (what a lagging renderer makes of the scraper's scroll).
SCROLL_WHEN_ROWS_ARRIVE = """document.addEventListener('DOMContentLoaded', () => {
  const status = document.getElementById('list-status');
  new MutationObserver(() => { if (status.dataset.state === 'more') (%s)(); })
    .observe(status, {attributes: true, attributeFilter: ['data-state']});
})"""
PLAIN_SCROLL = "() => window.scrollTo(0, document.body.scrollHeight)"


@pytest.mark.parametrize(("scroll", "completes"), [(jbhunt.SCROLL_TO_END, True), (PLAIN_SCROLL, False)])
def test_the_list_scroll_does_not_race_the_rendering_of_new_rows(
    browser_host, clean_sim, make_portals, scroll, completes
):
    """The adapter's scroll still loads every page when it runs before the new rows are rendered; a plain
    scroll at that moment loses the list's IntersectionObserver report and the next page never comes."""
    portal = make_portals(clean_sim.url)[0]

    async def read_list(browser):
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        try:
            page = await context.new_page()
            await portal.login(page)
            await page.add_init_script(SCROLL_WHEN_ROWS_ARRIVE % scroll)
            await page.goto(f"{clean_sim.url}/jbhunt/loadboard/map")
            try:
                await page.wait_for_function(
                    "() => document.getElementById('list-status').dataset.state === 'complete'", timeout=3000
                )
            except PlaywrightTimeout:
                pass
            return await page.eval_on_selector("#list-status", "s => [s.dataset.state, s.dataset.page]")
        finally:
            await context.close()

    state, page = browser_host.run(read_list(browser_host.browser))
    # A plain scroll stalls on page 1 or 2 (2 when page 1 arrived before the observer's first report).
    assert (state, page) == ("complete", "4") if completes else state == "more" and page in ("1", "2")
