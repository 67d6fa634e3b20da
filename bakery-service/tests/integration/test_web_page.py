"""The web page in real headless Chromium (Debian's, through Playwright) against bakery-service over HTTP,
signing in through the suite's login (a local stand-in of fleet-api's POST /auth/login over real HTTP).

Every flow runs at a desktop's 1280×800 and a phone's 390×844; axe-core checks each state of the page (no
serious or critical violation); the screenshots in the service README are written by these tests.
One Chromium for the whole run, one page per width, reused by every test.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.servers import free_port
from werkzeug.serving import make_server

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
EMAIL, PASSWORD = "baker@bakery.example", "flour-power"
THROTTLED = "busy@bakery.example"
FAILING = "broken@bakery.example"


# --- the service and its login ---------------------------------------------------------------------------
@pytest.fixture()
def login_service(httpserver, settings):
    """fleet-api's login as the page meets it: a token for the right password, a 500 for one account,
    401 otherwise."""
    from servicekit import issue_token

    token = issue_token(settings, "17", claims={"email": EMAIL, "role": "user"})[0]  # as fleet-api's
    httpserver.expect_request(
        "/auth/login", method="POST", json={"email": EMAIL, "password": PASSWORD}
    ).respond_with_json({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
    httpserver.expect_request(
        "/auth/login", method="POST", json={"email": FAILING, "password": PASSWORD}
    ).respond_with_json({"title": "Internal Server Error", "status": 500}, status=500)
    httpserver.expect_request("/auth/login", method="POST").respond_with_json(
        {"title": "Unauthorized", "status": 401, "detail": "Wrong e-mail or password."}, status=401
    )
    return httpserver.url_for("/auth/login")


@pytest.fixture()
def page_app(make_settings, fakes, login_service, tmp_path):
    from bakery_service import create_app
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.wiring import Dependencies
    from servicekit.db import make_engine

    settings = make_settings(auth_login_url=login_service, log_dir=tmp_path / "logs")
    fakes.slack.configured = False  # the ready notice goes by e-mail, as on the local stack
    engine = make_engine(settings.database_url, pool_size=4)
    yield create_app(settings, Dependencies(settings, engine, fakes, LoginForwarder(login_service)))
    engine.dispose()


@pytest.fixture()
def base_url(page_app) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, page_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture()
def api(page_app, token):
    """The API as another till uses it (same database, same token)."""
    client = page_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_login_forwarding(page_app) -> None:
    client = page_app.test_client()
    ok = client.post("/ui/login", json={"email": EMAIL, "password": PASSWORD})
    assert ok.status_code == 200 and ok.get_json()["access_token"].count(".") == 2
    token = ok.get_json()["access_token"]
    assert client.get("/cakes", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refused = client.post("/ui/login", json={"email": EMAIL, "password": "nope"})
    assert refused.status_code == 401 and refused.get_json()["detail"] == "Wrong e-mail or password."
    assert refused.get_json()["title"] == "Sign-in failed"
    assert "nope" not in refused.get_data(as_text=True)


def test_login_service_down_is_503(make_settings, deps) -> None:
    from bakery_service import create_app
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.wiring import Dependencies

    url = f"http://127.0.0.1:{free_port()}/auth/login"
    app = create_app(deps.settings, Dependencies(deps.settings, deps.engine, deps.clients, LoginForwarder(url)))
    response = app.test_client().post("/ui/login", json={"email": "a@b.c", "password": "x"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["title"] == "Sign-in failed"


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_every_html_answer_carries_the_security_headers(page_app) -> None:
    client = page_app.test_client()
    for path in ("/ui", "/docs"):
        response = client.get(path)
        assert response.mimetype == "text/html"
        policy = _directives(response.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert not any("unsafe" in value or value == "*" for values in policy.values() for value in values)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/ui")
    policy = _directives(page.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    html = page.get_data(as_text=True)
    # No inline script or style anywhere: scripts and styles are files.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and "<style" not in html
    assert not re.search(r"\son[a-z]+=|\sstyle=", html)
    assert page.headers["Cache-Control"] == "no-store"
    script = client.get("/static/bakery.js")
    assert script.headers["X-Content-Type-Options"] == "nosniff" and "javascript" in script.mimetype


# --- the browser ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


class Watch:
    """What a page did that a test should know about: CSP violations, request URLs."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.urls: list[str] = []


@pytest.fixture(scope="session")
def pages(browser):
    """One page per width for the whole run, each with what it reports."""
    made = {}
    for name, viewport in VIEWPORTS.items():
        context = browser.new_context(
            viewport=viewport, is_mobile=name == "phone", has_touch=name == "phone", locale="en-GB", timezone_id="UTC"
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        watch = Watch()
        page.on("console", lambda m, w=watch: "Content Security Policy" in m.text and w.violations.append(m.text))
        page.on("request", lambda r, w=watch: w.urls.append(r.url))
        made[name] = (page, watch)
    yield made
    for page, _ in made.values():
        page.context.close()


@pytest.fixture(params=list(VIEWPORTS))
def width(request) -> str:
    return request.param


@pytest.fixture()
def page(pages, width, base_url):
    page, watch = pages[width]
    page.set_viewport_size(VIEWPORTS[width])
    watch.violations.clear()
    watch.urls.clear()
    page.goto(base_url + "/")
    page.watch = watch  # type: ignore[attr-defined]
    yield page
    assert not watch.violations, watch.violations  # the page runs under its strict CSP without a violation
    page.goto("about:blank")  # stops the page's polling before the server goes


def accessible(page, state: str) -> None:
    """axe-core on the page as it is. The issue asks for no serious or critical violation; the page has none
    of any impact, and the check holds it there."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    assert not violations, f"{state}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:4]}" for v in violations
    )


def fits(page, state: str) -> None:
    """No sideways scrolling; every control inside the screen and big enough for a thumb (44 px)."""
    report = page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const controls = [...document.querySelectorAll('button, a[href], input, select, textarea, summary')]
            .filter((e) => e.getClientRects().length && !e.closest('[hidden]') && !e.closest('dialog:not([open])')
                           && !e.classList.contains('skip-link'));
          const outside = controls
            .filter((e) => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > width + 0.5; })
            .map((e) => e.outerHTML.slice(0, 80));
          const small = controls.filter((e) => e.type !== 'checkbox' && e.tagName !== 'A' && e.tagName !== 'SUMMARY')
            .filter((e) => e.getBoundingClientRect().height < 43.5).map((e) => e.outerHTML.slice(0, 80));
          return {scroll: document.documentElement.scrollWidth, width, outside, small};
        }"""
    )
    assert report["scroll"] <= report["width"], f"{state}: the page scrolls sideways: {report}"
    assert not report["outside"] and not report["small"], f"{state}: {report}"


def focused(page) -> str:
    """The focused element's id, else the order it belongs to, else its tag."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.id || e.closest('[data-order]')?.dataset.order || e.tagName; }"
    )


def focused_card(page) -> str | None:
    return page.evaluate(
        "() => { const c = document.activeElement.closest('[data-order],[data-cake]');"
        " return c && document.activeElement.tagName === 'ARTICLE' ? (c.dataset.order || c.dataset.cake) : null; }"
    )


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.bottom > 0 && r.top < window.innerHeight && r.height > 0; }""",
        selector,
    )


def shot(page, name: str) -> None:
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / name))


def sign_in(page) -> None:
    page.fill("#login-email", EMAIL)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#app-view:not([hidden])")


# --- the flows, at both widths ---------------------------------------------------------------------------
def test_a_signed_out_person_sees_the_sign_in_first(page, width, base_url) -> None:
    from playwright.sync_api import expect

    assert page.url == base_url + "/ui"
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.is_hidden("#app-view") and page.is_hidden("#order-form") and page.is_hidden("#account")
    expect(page.get_by_label("E-mail")).to_be_visible()
    fits(page, f"signed out, {width}")
    accessible(page, f"signed out, {width}")
    if width == "phone":
        shot(page, "web-page-phone-sign-in.png")

    # Nothing typed: said next to each field, focus on the first.
    page.click("#login-submit")
    expect(page.locator("#login-email-error")).to_have_text("Enter your e-mail address.")
    expect(page.locator("#login-password-error")).to_have_text("Enter your password.")
    assert focused(page) == "login-email"

    # A wrong password, in the bakery's words, announced (role=alert), focus back on the password.
    page.fill("#login-email", EMAIL)
    page.fill("#login-password", "wrong")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text(
        "That e-mail and password don't match an account. Check them and try again."
    )
    assert page.get_attribute("#login-error", "role") == "alert"
    assert focused(page) == "login-password"
    accessible(page, f"sign-in refused, {width}")

    # The check itself sees a violation when there is one (here under the page's strict CSP).
    page.evaluate("() => document.querySelector('#signin-view').append(document.createElement('button'))")
    with pytest.raises(AssertionError, match="button-name"):
        accessible(page, "an unnamed button")
    page.evaluate("() => document.querySelector('#signin-view > button:last-child').remove()")

    # The login service failing: said plainly.
    page.fill("#login-email", FAILING)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text(
        "Signing in isn't possible right now. Please try again in a moment."
    )

    # Throttled: POST /ui/login answers the login service's 429 with its Retry-After (fleet-api's throttling,
    # passed on by the sign-in forwarding); the page says how long to wait and holds the button as long.
    def throttle(route) -> None:
        if json.loads(route.request.post_data or "{}").get("email") != THROTTLED:
            route.continue_()
            return
        body = {"title": "Sign-in failed", "status": 429, "detail": "Too many failed sign-ins; try again in 42 s."}
        route.fulfill(
            status=429, headers={"Retry-After": "42"}, content_type="application/problem+json", body=json.dumps(body)
        )

    page.route("**/ui/login", throttle)
    try:
        page.fill("#login-email", THROTTLED)
        page.click("#login-submit")
        expect(page.locator("#login-error")).to_have_text(
            "Too many sign-in attempts. Please wait 42 seconds and try again."
        )
        expect(page.locator("#login-submit")).to_be_disabled()
    finally:
        page.unroute("**/ui/login", throttle)


def test_the_working_day(page, width, base_url, processor, api) -> None:
    """Sign in, add a cake, place the brief's order (its errors next to the fields first), mark it ready, see
    the customer told without a reload, cancel it after confirming, delete the cake after confirming."""
    from playwright.sync_api import expect

    sign_in(page)
    assert focused(page) == "new-order-title"  # not lost to <body>
    expect(page.locator("#account-name")).to_have_text(f"Signed in as {EMAIL}")
    fits(page, f"signed in, {width}")
    accessible(page, f"signed in, {width}")

    page.fill("#cake-name", "Chocolate Cake")
    page.fill("#cake-ingredients", "chocolate 33.5 g\nbutter 16.5 g\nflour 8.5 g\nsugar 16.5 g\neggs 1")
    page.click("#cake-form button[type=submit]")
    page.wait_for_selector("[data-cake=chocolate_cake]")
    assert focused_card(page) == "chocolate_cake"
    expect(page.locator("[data-cake=chocolate_cake]")).to_contain_text("eggs 1")

    # The same cake again: refused next to the name, in words.
    page.fill("#cake-name", "Chocolate Cake")
    page.fill("#cake-ingredients", "cocoa 1.5 g")
    page.click("#cake-form button[type=submit]")
    expect(page.locator("#cake-name-error")).to_have_text(
        "There is already a cake with this name (chocolate_cake). Choose another name."
    )
    assert focused(page) == "cake-name" and page.get_attribute("#cake-name", "aria-invalid") == "true"

    # The brief's order, with a clashing extra: the preview flags it instead of dropping it.
    page.fill("#order-customer", "Mr. Cakelover")
    page.select_option("#order-recipe", "chocolate_cake")
    page.fill("#order-persons", "4")
    page.fill("#order-quantity", "2")
    page.fill("#order-extras", "peanuts 10\neggs 5.5 g")
    preview = dict(
        page.eval_on_selector_all(
            "#order-preview tbody tr", "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
        )
    )
    assert preview["chocolate"] == "268 g" and preview["peanuts"] == "10"
    assert preview["eggs"] == "8+ 5.5 g not added"
    assert page.get_attribute("#order-preview tr[data-ingredient=eggs]", "class") == "flagged"
    expect(page.locator("#order-extras-warning")).to_have_text(
        "Eggs are counted in units, not grams: write a whole number, like “eggs 2”."
    )

    # Place order anyway: the API's refusal lands next to the extras, on screen, announced.
    page.click("#order-form button[type=submit]")
    expect(page.locator("#order-extras-error")).to_have_text(
        "Eggs are counted in units, not grams: write a whole number, like “eggs 2”."
    )
    assert focused(page) == "order-extras" and in_view(page, "#order-extras-error")
    assert "order-extras-error" in page.get_attribute("#order-extras", "aria-describedby")
    page.fill("#order-persons", "1001")
    page.fill("#order-customer", "  ")
    page.click("#order-form button[type=submit]")
    expect(page.locator("#order-persons-error")).to_have_text("Persons per cake: enter a whole number from 1 to 1,000.")
    expect(page.locator("#order-customer-error")).to_have_text(
        "The customer's name needs at least one letter or digit."
    )
    assert focused(page) == "order-customer"
    fits(page, f"order form with errors, {width}")
    accessible(page, f"order form with errors, {width}")
    if width == "phone":
        page.locator("#order-customer").scroll_into_view_if_needed()
        shot(page, "web-page-phone-order-errors.png")

    page.fill("#order-customer", "Mr. Cakelover")
    page.fill("#order-persons", "4")
    page.fill("#order-extras", "peanuts 10")
    page.click("#order-form button[type=submit]")
    expect(page.locator("#order-form-status")).to_contain_text("placed for Mr. Cakelover")
    # The sentence names the order as soon as the API answers; the list is read again, then the new card
    # takes the focus (a poll may have drawn it first).
    order_id = re.search(r"Order #(\d+) placed", page.locator("#order-form-status").text_content() or "")[1]
    card = page.locator(f"#order-list > [data-order='{order_id}']")
    expect(card.locator("article")).to_be_focused()  # focus on the new order
    assert focused_card(page) == order_id
    assert page.locator("#order-list > li").first.get_attribute("data-order") == order_id  # newest first
    expect(card).to_contain_text("chocolate 268 g")
    expect(card).to_contain_text("eggs 8")
    assert page.locator("#order-extras-error").text_content() == ""

    # Ready: the card updates in place, keeps the focus, and nothing goes blank.
    ready = page.get_by_role("button", name=f"Mark ready — order #{order_id} for Mr. Cakelover")
    ready.click()
    expect(card.locator(".notice")).to_have_text("Telling the customer…")
    assert focused_card(page) == order_id and in_view(page, f"[data-order='{order_id}']")
    assert page.evaluate("() => window.scrollY + window.innerHeight <= document.documentElement.scrollHeight + 1")

    # The outbox sends the e-mail; the page learns it by itself.
    assert processor.run_once() == 1
    expect(card.locator(".notice")).to_contain_text("Sent by e-mail to mr_cakelover@gmail.com", timeout=8_000)
    expect(card.locator(".badge")).to_have_text("Ready")
    if width == "phone":
        card.scroll_into_view_if_needed()
        shot(page, "web-page-phone.png")

    # Delete a cake an open order needs: refused on the cake's card. (The order is ready, not open: place one.)
    second = api.post("/orders", json={**BRIEF_ORDER, "customer": "Ms. Delicious"}).get_json()
    page.get_by_role("button", name="Delete cake Chocolate Cake").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.get_by_role("button", name="Delete cake", exact=True).click()
    expect(page.locator("#cake-chocolate_cake-error")).to_have_text(
        f"This cake is still needed by open order #{second['id']}. Mark them ready or cancel them first."
    )

    # Cancel: asks first; "Keep order" keeps it.
    cancel = page.get_by_role("button", name=f"Cancel order #{order_id} for Mr. Cakelover")
    cancel.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Cancel order #{order_id}?")
    assert focused(page) == "confirm-keep"
    accessible(page, f"confirmation, {width}")
    page.get_by_role("button", name="Keep order").click()
    expect(dialog).to_be_hidden()
    expect(card.locator(".badge")).to_have_text("Ready")
    assert focused(page) == order_id  # back on the Cancel button of that order

    cancel.click()
    page.get_by_role("button", name="Cancel order", exact=True).click()
    expect(card.locator(".badge")).to_have_text("Cancelled")
    assert focused_card(page) == order_id

    api.delete(f"/orders/{second['id']}")
    page.get_by_role("button", name="Delete cake Chocolate Cake").click()
    page.get_by_role("button", name="Delete cake", exact=True).click()
    expect(page.locator("[data-cake=chocolate_cake]")).to_have_count(0)
    assert focused(page) == "cakes-title"

    page.fill("#employee-first", "Jack")
    page.fill("#employee-last", "Harrot")
    page.check("#employee-developer")
    page.click("#employee-form button[type=submit]")
    expect(page.locator("#employee-github-error")).to_have_text(
        "A developer needs a GitHub username, so they can be given access."
    )
    page.fill("#employee-github", "jharrot")
    page.click("#employee-form button[type=submit]")
    expect(page.locator("#employee-list")).to_contain_text("jharrot")

    # Signing out leaves nothing of the work on screen.
    page.click("#logout")
    expect(page.locator("#signin-view")).to_be_visible()
    assert page.is_hidden("#app-view") and focused(page) == "signin-title"


def test_orders_are_paged_and_found_through_the_api_and_update_by_themselves(page, width, api) -> None:
    from playwright.sync_api import expect

    assert api.post("/cakes", json=CHOCOLATE_CAKE).status_code == 201
    names = ["Mr. Cakelover", "Ms. Delicious", "Dr. Crumble"]
    ids = [api.post("/orders", json={**BRIEF_ORDER, "customer": names[i % 3]}).get_json()["id"] for i in range(45)]
    api.post(f"/orders/{ids[-3]}/ready")  # a Mr. Cakelover order
    sign_in(page)
    expect(page.locator("#orders-summary")).to_have_text("Showing 1–20 of 45 orders.")
    expect(page.locator("#page-info")).to_have_text("Page 1 of 3")
    assert page.locator("#order-list > li").count() == 20
    assert page.locator("#order-list > li").first.get_attribute("data-order") == str(ids[-1])

    page.click("#page-next")
    expect(page.locator("#orders-summary")).to_have_text("Showing 21–40 of 45 orders.")
    assert focused(page) == "orders-title"
    assert page.locator("#order-list > li").first.get_attribute("data-order") == str(ids[-21])
    page.click("#page-next")
    expect(page.locator("#orders-summary")).to_have_text("Showing 41–45 of 45 orders.")
    expect(page.locator("#page-next")).to_be_disabled()
    # The API pages: the page asked for 20 at a time, never for everything.
    asked = [u for u in page.watch.urls if "/orders?" in u]
    assert any("offset=40" in u and "limit=20" in u for u in asked) and not any("limit=500" in u for u in asked)

    page.fill("#search-customer", "crumble")
    expect(page.locator("#orders-summary")).to_have_text("Showing 1–15 of 15 matching orders.")
    assert set(page.locator("#order-list h3").all_text_contents()) == {f"#{i} Dr. Crumble" for i in ids[2::3]}
    page.select_option("#search-state", "ready")
    expect(page.locator("#orders-summary")).to_have_text("No order matches this search.")
    page.select_option("#search-state", "placed")
    expect(page.locator("#orders-summary")).to_have_text("Showing 1–15 of 15 matching orders.")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    page.fill("#search-from", today)
    page.fill("#search-to", "2000-01-01")
    page.dispatch_event("#search-to", "change")
    expect(page.locator("#search-to-error")).to_have_text("This day is before the “Placed from” day.")
    page.fill("#search-to", today)
    page.dispatch_event("#search-to", "change")
    expect(page.locator("#orders-summary")).to_have_text("Showing 1–15 of 15 matching orders.")
    assert any("placed_from=" + today in u and "customer=crumble" in u for u in page.watch.urls)
    fits(page, f"search, {width}")
    accessible(page, f"search, {width}")

    page.click("#search-clear")
    expect(page.locator("#orders-summary")).to_have_text("Showing 1–20 of 45 orders.")
    # Another till places an order and marks one ready: both show up without a reload or a click.
    placed = api.post("/orders", json={**BRIEF_ORDER, "customer": "Walk-in"}).get_json()
    expect(page.locator(f"[data-order='{placed['id']}']")).to_contain_text("Walk-in", timeout=12_000)
    expect(page.locator("#orders-summary")).to_have_text("Showing 1–20 of 46 orders.")
    api.post(f"/orders/{ids[-2]}/ready")
    expect(page.locator(f"[data-order='{ids[-2]}'] .badge")).to_have_text("Ready", timeout=12_000)
    if width == "desktop":
        api.delete(f"/orders/{ids[-4]}")
        expect(page.locator(f"[data-order='{ids[-4]}'] .badge")).to_have_text("Cancelled", timeout=12_000)
        page.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
        shot(page, "web-page-desktop.png")


def test_polling_backs_off_while_nothing_changes(pages, base_url) -> None:
    """The waits between two looks at the orders (the page's own rule, run in the page)."""
    page, _ = pages["desktop"]
    page.goto(base_url + "/ui")
    delays = page.evaluate(
        """() => {
          const seq = [];
          let d = POLL.idle;
          for (let i = 0; i < 8; i++) { d = nextPollDelay(d, {}); seq.push(d); }
          const idle = seq;
          const pending = [nextPollDelay(60000, {pending: true, changed: true})];
          for (let i = 0; i < 6; i++) pending.push(nextPollDelay(pending.at(-1), {pending: true}));
          const failing = [nextPollDelay(5000, {failed: true})];
          for (let i = 0; i < 4; i++) failing.push(nextPollDelay(failing.at(-1), {failed: true}));
          return {idle, pending, failing, recovered: nextPollDelay(60000, {recovered: true}),
                  changed: nextPollDelay(40000, {changed: true})};
        }"""
    )
    assert delays["idle"] == [7500, 11250, 16875, 20000, 20000, 20000, 20000, 20000]
    assert delays["pending"] == [2000, 3000, 4500, 6750, 10000, 10000, 10000]  # quicker while a notice is on its way
    assert delays["failing"] == [10000, 20000, 40000, 60000, 60000]
    assert delays["recovered"] == delays["changed"] == 5000
    page.goto("about:blank")


def test_long_names_wrap_and_nothing_scrolls_sideways(page, width, processor, api, fakes) -> None:
    """A 200-character cake, id and customer; a long integration error; every width from 360 to 1440."""
    from playwright.sync_api import expect

    name = "Triple " + "chocolate " * 19 + "cake"
    long_name = (name + "x" * 200)[:200]
    cake = api.post("/cakes", json={"name": long_name, "ingredients": {"chocolate": 33.5, "eggs": 1}}).get_json()
    assert len(cake["id"]) >= 190
    customer = "Mr. " + "Cakelover" * 21  # one unbreakable word of 189 letters
    order = api.post("/orders", json={**BRIEF_ORDER, "recipe": cake["id"], "customer": customer}).get_json()
    api.post(f"/orders/{order['id']}/ready")
    from bakery_service.adapters.integration_errors import IntegrationError

    fakes.email.errors.append(
        IntegrationError("SMTP server unreachable: " + "connection refused by mail.example.com; " * 8)
    )
    processor.run_once()
    sign_in(page)
    expect(page.locator(f"[data-order='{order['id']}']")).to_be_visible()
    expect(page.locator("[data-integration=email]")).to_contain_text("SMTP server unreachable")
    for view_width in (360, 390, 768, 1024, 1280, 1440):
        page.set_viewport_size({"width": view_width, "height": 800})
        fits(page, f"long names at {view_width} px")
    page.set_viewport_size(VIEWPORTS[width])
    # The integrations' last result is readable: shown whole, not clipped.
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('#integration-list dd')]"
        ".filter(d => d.scrollWidth > d.clientWidth + 1).length"
    )
    assert clipped == 0
    accessible(page, f"long names, {width}")
    if width == "phone":
        page.locator("#integrations").scroll_into_view_if_needed()
        shot(page, "web-page-phone-integrations.png")


def test_the_token_stays_out_of_urls_and_logs(page, width, page_app, tmp_path) -> None:
    sign_in(page)
    page.wait_for_selector("#orders-summary:has-text('No orders yet.')")
    token = page.evaluate("() => localStorage.getItem('bakery.token')")
    assert token and token.count(".") == 2
    assert page.watch.urls and not [u for u in page.watch.urls if token in u or PASSWORD in u]
    assert PASSWORD not in page.url and EMAIL not in page.url
    logs = (tmp_path / "logs" / "bakery-service.log").read_text()
    lines = [json.loads(line) for line in logs.splitlines()]
    assert any(line.get("path") == "/orders" for line in lines)  # the page's calls are logged...
    assert token not in logs and PASSWORD not in logs  # ...without the token or the password


def test_every_refusal_reads_in_the_bakerys_words(pages, base_url, api) -> None:
    """The page's mapping, fed the API's own problem+json answers: a sentence next to the right input, and no
    developer's word (field paths, types, headers) in any of them."""
    assert api.post("/cakes", json=CHOCOLATE_CAKE).status_code == 201
    order = api.post("/orders", json=BRIEF_ORDER).get_json()
    api.delete(f"/orders/{order['id']}")
    open_order = api.post("/orders", json=BRIEF_ORDER).get_json()

    def problem(response) -> dict:
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)
        return {"status": response.status_code, "problem": response.get_json()}

    def with_order(**change) -> dict:
        return problem(api.post("/orders", json={**BRIEF_ORDER, **change}))

    def with_cake(**change) -> dict:
        return problem(api.post("/cakes", json={**CHOCOLATE_CAKE, **change}))

    def hire(**fields) -> dict:
        return problem(api.post("/employees", json={"firstName": "Jack", "lastName": "Harrot", **fields}))

    cases = [  # (refusal, the form's field map, the input, the sentence)
        (
            with_order(extra_ingredients={"eggs": 5.5}),
            "ORDER_FIELDS",
            "order-extras",
            "Eggs are counted in units, not grams: write a whole number, like “eggs 2”.",
        ),
        (
            with_order(extra_ingredients={"chocolate": 5}),
            "ORDER_FIELDS",
            "order-extras",
            "Chocolate is weighed in grams, not counted: write it in grams, like “chocolate 50 g”.",
        ),
        (
            with_order(extra_ingredients={"cream": 1.0001}),
            "ORDER_FIELDS",
            "order-extras",
            "Cream: grams are kept to the milligram, so use at most 3 decimals (like 12.345 g).",
        ),
        (
            with_order(extra_ingredients={"cream": 0.0}),
            "ORDER_FIELDS",
            "order-extras",
            "Cream: the amount must be more than 0.",
        ),
        (
            with_order(recipe="lemon_tart"),
            "ORDER_FIELDS",
            "order-recipe",
            "That cake no longer exists. Choose another cake.",
        ),
        (with_order(customer=""), "ORDER_FIELDS", "order-customer", "Enter the customer's name."),
        (
            with_order(customer="x" * 201),
            "ORDER_FIELDS",
            "order-customer",
            "The customer's name is too long: at most 200 characters.",
        ),
        (with_order(quantity=0), "ORDER_FIELDS", "order-quantity", "Cakes: enter a whole number from 1 to 1,000."),
        (
            with_order(persons="four"),
            "ORDER_FIELDS",
            "order-persons",
            "Persons per cake: enter a whole number from 1 to 1,000.",
        ),
        (
            with_cake(),
            "CAKE_FIELDS",
            "cake-name",
            "There is already a cake with this name (chocolate_cake). Choose another name.",
        ),
        (with_cake(name="Sponge", ingredients={}), "CAKE_FIELDS", "cake-ingredients", "Add at least one ingredient."),
        (
            with_cake(name="Sponge", ingredients={"flour": 200000.0}),
            "CAKE_FIELDS",
            "cake-ingredients",
            "Flour: the amount can be at most 100,000.",
        ),
        (with_cake(name="!!!"), "CAKE_FIELDS", "cake-name", "The cake's name needs at least one letter or digit."),
        (
            hire(permissions={"developer": True}),
            "EMPLOYEE_FIELDS",
            "employee-github",
            "A developer needs a GitHub username, so they can be given access.",
        ),
        (
            hire(githubUsername="-bad-"),
            "EMPLOYEE_FIELDS",
            "employee-github",
            "A GitHub username has only letters, digits and single hyphens, and no hyphen at either end.",
        ),
        (hire(firstName=""), "EMPLOYEE_FIELDS", "employee-first", "Enter the first name."),
    ]
    actions = [  # refusals of an action on a card: one message
        (
            problem(api.delete("/cakes/chocolate_cake")),
            f"This cake is still needed by open order #{open_order['id']}. Mark them ready or cancel them first.",
        ),
        (
            problem(api.post(f"/orders/{order['id']}/ready")),
            f"Order #{order['id']} was cancelled, so it can't be marked ready.",
        ),
        ({"status": 0, "problem": None}, "The bakery system can't be reached. Check the connection and try again."),
        (
            {"status": 503, "problem": {"title": "Service Unavailable", "status": 503}},
            "The bakery system isn't answering right now. Please try again in a moment.",
        ),
        (
            {"status": 401, "problem": {"title": "Unauthorized", "status": 401}},
            "Your session has ended. Please sign in again.",
        ),
    ]
    page, _ = pages["desktop"]
    page.goto(base_url + "/ui")
    said = page.evaluate(
        """([cases, actions]) => ({
          fields: cases.map(([error, name]) => {
            const fields = {ORDER_FIELDS, CAKE_FIELDS, EMPLOYEE_FIELDS}[name];
            return Object.fromEntries(explain(error, fields).byField);
          }),
          messages: actions.map(([error]) => explain(error).message),
        })""",
        [[[c[0], c[1]] for c in cases], [[a[0]] for a in actions]],
    )
    page.goto("about:blank")
    for (refusal, _, field, sentence), got in zip(cases, said["fields"], strict=True):
        assert got == {field: sentence}, refusal
    assert said["messages"] == [sentence for _, sentence in actions]
    jargon = re.compile(r"body\.|query\.|constrained|integer|snake_case|Authorization|Bearer|\bloc\b|pydantic|JSON")
    assert not [s for s in [c[3] for c in cases] + said["messages"] if jargon.search(s)]
