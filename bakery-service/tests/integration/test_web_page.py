"""The web page in real headless Chromium (Debian's, through Playwright) against bakery-service over HTTP,
signing in through the suite's login (a local stand-in of fleet-api's POST /auth/login over real HTTP)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.servers import free_port
from werkzeug.serving import make_server

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "web-page.png"


@pytest.fixture()
def login_service(httpserver, settings):
    """fleet-api's login as the page meets it: a token for the right password, 401 otherwise."""
    from servicekit import issue_token

    token = issue_token(settings, "baker@bakery.example")[0]
    httpserver.expect_request(
        "/auth/login", method="POST", json={"email": "baker@bakery.example", "password": "flour-power"}
    ).respond_with_json({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
    httpserver.expect_request("/auth/login", method="POST").respond_with_json(
        {"title": "Unauthorized", "status": 401, "detail": "Wrong e-mail or password."}, status=401
    )
    return httpserver.url_for("/auth/login")


@pytest.fixture()
def page_app(make_settings, fakes, login_service):
    from bakery_service import create_app
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.adapters.postgres import BakeryStore
    from bakery_service.wiring import Dependencies
    from servicekit.db import make_engine

    settings = make_settings(auth_login_url=login_service)
    fakes.slack.configured = False  # the ready notice goes by e-mail, as on the local stack
    store = BakeryStore(make_engine(settings.database_url, pool_size=2))
    yield create_app(settings, Dependencies(settings, store, fakes, LoginForwarder(login_service)))
    store.engine.dispose()


@pytest.fixture()
def base_url(page_app) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, page_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


def test_login_forwarding(page_app) -> None:
    client = page_app.test_client()
    ok = client.post("/ui/login", json={"email": "baker@bakery.example", "password": "flour-power"})
    assert ok.status_code == 200 and ok.get_json()["access_token"].count(".") == 2
    token = ok.get_json()["access_token"]
    assert client.get("/cakes", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refused = client.post("/ui/login", json={"email": "baker@bakery.example", "password": "nope"})
    assert refused.status_code == 401 and refused.get_json()["detail"] == "Wrong e-mail or password."
    assert "nope" not in refused.get_data(as_text=True)


def test_login_service_down_is_503(make_settings, deps) -> None:
    from bakery_service import create_app
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.wiring import Dependencies

    url = f"http://127.0.0.1:{free_port()}/auth/login"
    app = create_app(deps.settings, Dependencies(deps.settings, deps.store, deps.clients, LoginForwarder(url)))
    response = app.test_client().post("/ui/login", json={"email": "a@b.c", "password": "x"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def test_a_baker_creates_a_cake_orders_marks_ready_and_cancels(browser, base_url, processor, tmp_path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.set_default_timeout(10_000)
    page.goto(base_url + "/")
    assert page.url.endswith("/ui")

    # A wrong password is shown, not swallowed.
    page.fill("#login-email", "baker@bakery.example")
    page.fill("#login-password", "wrong")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    assert "Wrong e-mail or password" in page.inner_text("#error")

    page.fill("#login-password", "flour-power")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#signed-in:not([hidden])")

    page.fill("#cake-name", "Chocolate Cake")
    page.fill("#cake-ingredients", "chocolate 33.5 g\nbutter 16.5 g\nflour 8.5 g\nsugar 16.5 g\neggs 1")
    page.click("#cake-form button[type=submit]")
    page.wait_for_selector("tr[data-cake=chocolate_cake]")
    assert "eggs 1" in page.inner_text("tr[data-cake=chocolate_cake]")

    # Totals as you type.
    page.fill("#order-customer", "Mr. Cakelover")
    page.select_option("#order-recipe", "chocolate_cake")
    page.fill("#order-persons", "4")
    page.fill("#order-quantity", "2")
    page.fill("#order-extras", "peanuts 10")
    preview = dict(
        page.eval_on_selector_all(
            "#order-preview tbody tr", "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
        )
    )
    assert preview == {
        "chocolate": "268 g",
        "butter": "132 g",
        "flour": "68 g",
        "sugar": "132 g",
        "eggs": "8",
        "peanuts": "10",
    }

    page.click("#order-form button[type=submit]")
    row = page.wait_for_selector("#order-rows tr[data-order]")
    order_id = row.get_attribute("data-order")
    assert "chocolate 268 g" in row.inner_text() and "eggs 8" in row.inner_text()

    page.click(f"tr[data-order='{order_id}'] button:text('Ready')")
    page.wait_for_selector(f"tr[data-order='{order_id}'] td.state-ready")
    assert processor.run_once() == 1  # the outbox sends the e-mail
    page.click("#batch-run")  # refreshes the lists too
    page.wait_for_selector(f"tr[data-order='{order_id}'] >> text=mr_cakelover@gmail.com")

    page.click(f"tr[data-order='{order_id}'] button:text('Cancel')")
    page.wait_for_selector(f"tr[data-order='{order_id}'] td.state-cancelled")

    # An API refusal is shown clearly: the same cake twice.
    page.fill("#cake-name", "Chocolate Cake")
    page.fill("#cake-ingredients", "cocoa 1.5 g")
    page.click("#cake-form button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    assert "Conflict" in page.inner_text("#error") and "chocolate_cake" in page.inner_text("#error")

    page.fill("#employee-first", "Jack")
    page.fill("#employee-last", "Harrot")
    page.fill("#employee-github", "jharrot")
    page.check("#employee-developer")
    page.click("#employee-form button[type=submit]")
    page.wait_for_selector("#employee-rows >> text=jharrot")

    artifacts = Path(os.environ.get("TEST_ARTIFACTS_DIR", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artifacts / "bakery-web-page.png"), full_page=True)
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)
    page.close()
