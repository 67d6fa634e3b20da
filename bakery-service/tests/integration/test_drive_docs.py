"""DriveDocs over real HTTP against local fakes of Google's token endpoint, Drive v3 and Docs v1."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from bakery_service.adapters.drive import SCOPES, DriveDocs
from bakery_service.adapters.integration_errors import IntegrationError, NotConfigured
from bakery_service.settings import Settings

from .fakes import assert_secret_hidden, capture_everything, fail_next
from .fakes.google import BATCH_UPDATE, DOCUMENT, FILES_PATH, TOKEN_PATH, FakeGoogle

pytestmark = pytest.mark.integration

TITLE = "Mr Cakelover cancelled orders"
LINE_21 = "- Order 21 [Chocolate Cake] : Date 01/01/2022 06:10"
LINE_101 = "- Order 101 [Carrot Cake] : Date 20/04/2022 14:30"


@pytest.fixture()
def google(httpserver) -> FakeGoogle:
    return FakeGoogle(httpserver)


def docs(google: FakeGoogle, *, key: str | None = None, timeout: float = 2.0) -> DriveDocs:
    settings = Settings(
        jwt_secret="s" * 64,
        database_url="postgresql://unused/none",
        google_service_account_json=key or google.key_json,
        google_drive_orders_folder_id=google.folder_id,
        google_api_url=google.url,
    )
    return DriveDocs(settings, timeout=timeout)


def private_key_fragment(google: FakeGoogle) -> str:
    return google.key["private_key"].splitlines()[5]


def write_line(drive: DriveDocs, slug: str, title: str, line: str, known: dict[str, str] | None = None) -> str:
    """What the Drive action does, its id store a dict: the document (adopted, or created with an id chosen
    first), then the line."""
    known = {} if known is None else known
    if slug not in known:
        known[slug] = drive.find_document(slug) or drive.generate_id()
    if drive.document_text(known[slug]) is None:
        drive.create_document(known[slug], slug)
    drive.append_line(known[slug], title, line, drive.document_text(known[slug]) or "")
    return known[slug]


def test_creates_the_customer_document_with_its_title_then_appends(google, caplog) -> None:
    capture_everything(caplog)
    drive = docs(google)
    known: dict[str, str] = {}
    document_id = write_line(drive, "mr_cakelover", TITLE, LINE_21, known)

    assert document_id in google.generated
    meta = dict(google.files[document_id])
    assert meta.pop("created") > 0
    assert meta == {
        "name": "mr_cakelover",
        "mimeType": "application/vnd.google-apps.document",
        "parents": [google.folder_id],
    }
    assert google.documents[document_id] == f"{TITLE}\n\n{LINE_21}\n"
    [style] = google.styles[document_id]
    assert style["range"] == {"startIndex": 1, "endIndex": 1 + len(TITLE)}
    assert style["paragraphStyle"] == {"namedStyleType": "TITLE"}
    assert sorted(google.granted_scopes) == sorted(SCOPES)

    assert write_line(drive, "mr_cakelover", TITLE, LINE_101, known) == document_id
    assert google.documents[document_id] == f"{TITLE}\n\n{LINE_21}\n{LINE_101}\n"
    assert len(google.files) == 1
    assert_secret_hidden(private_key_fragment(google), caplog)
    assert all("ya29." not in record.getMessage() for record in caplog.records)


def test_creating_again_with_the_same_id_makes_no_second_document(google) -> None:
    drive = docs(google)
    document_id = drive.generate_id()
    drive.create_document(document_id, "mr_cakelover")
    drive.create_document(document_id, "mr_cakelover")  # Drive answers 409: it exists
    assert google.named("mr_cakelover") == [document_id]
    assert drive.document_text(document_id) == "\n" and drive.document_text(drive.generate_id()) is None


def test_drives_search_lags_a_creation(google) -> None:
    google.faults.index_lag = 0.3
    drive = docs(google)
    document_id = drive.generate_id()
    drive.create_document(document_id, "mr_cakelover")
    assert drive.find_document("mr_cakelover") is None
    time.sleep(0.35)
    assert drive.find_document("mr_cakelover") == document_id


def test_one_document_per_customer(google) -> None:
    drive = docs(google)
    first = write_line(drive, "mr_cakelover", TITLE, LINE_21)
    second = write_line(drive, "ms_delicious", "Ms Delicious cancelled orders", LINE_101)
    assert first != second
    assert google.documents[second] == f"Ms Delicious cancelled orders\n\n{LINE_101}\n"


def test_an_existing_document_is_appended_to_and_a_repeated_line_is_not_written_twice(google) -> None:
    document_id = google.add_folder_file("mr_cakelover", f"{TITLE}\n\n{LINE_21}\n")
    drive = docs(google)
    assert write_line(drive, "mr_cakelover", TITLE, LINE_21) == document_id
    assert write_line(drive, "mr_cakelover", TITLE, LINE_101) == document_id
    assert google.documents[document_id] == f"{TITLE}\n\n{LINE_21}\n{LINE_101}\n"
    assert drive.append_line(document_id, TITLE, LINE_21, google.documents[document_id]) is False


def test_a_document_left_empty_by_an_interrupted_attempt_gets_its_title(google) -> None:
    drive = docs(google)
    known: dict[str, str] = {}
    fail_next(google.server, BATCH_UPDATE, status=503, body={"error": {"code": 503, "message": "Backend Error"}})
    with pytest.raises(IntegrationError) as caught:
        write_line(drive, "mr_cakelover", TITLE, LINE_21, known)
    assert caught.value.retryable
    [document_id] = google.documents
    assert google.documents[document_id] == "\n"

    assert write_line(drive, "mr_cakelover", TITLE, LINE_21, known) == document_id
    assert google.documents[document_id] == f"{TITLE}\n\n{LINE_21}\n"


def test_not_configured_without_key_or_folder(google) -> None:
    for settings in (
        Settings(jwt_secret="s" * 64, database_url="postgresql://unused/none", google_drive_orders_folder_id="f"),
        Settings(jwt_secret="s" * 64, database_url="postgresql://unused/none", google_service_account_json="{}"),
    ):
        unconfigured = DriveDocs(settings)
        assert not unconfigured.configured
        with pytest.raises(NotConfigured):
            unconfigured.find_document("mr_cakelover")
    assert google.server.log == []


def test_rate_limited_is_retryable_with_its_retry_after(google, caplog) -> None:
    capture_everything(caplog)
    body = {"error": {"code": 429, "message": "Rate Limit Exceeded", "errors": [{"reason": "rateLimitExceeded"}]}}
    fail_next(google.server, FILES_PATH, status=429, body=body, headers={"Retry-After": "12"})
    with pytest.raises(IntegrationError) as caught:
        write_line(docs(google), "mr_cakelover", TITLE, LINE_21)
    assert caught.value.retryable and caught.value.throttled
    assert caught.value.retry_after == 12
    assert google.files == {}
    assert_secret_hidden(private_key_fragment(google), caplog, caught.value)


def test_a_timeout_is_retryable(google, caplog) -> None:
    capture_everything(caplog)
    google.add_folder_file("mr_cakelover", f"{TITLE}\n")
    fail_next(google.server, DOCUMENT, status=200, body={}, delay=1.0)
    with pytest.raises(IntegrationError) as caught:
        write_line(docs(google, timeout=0.3), "mr_cakelover", TITLE, LINE_21)
    assert caught.value.retryable
    assert_secret_hidden(private_key_fragment(google), caplog, caught.value)


def test_a_folder_not_shared_with_the_account_is_not_retryable(google) -> None:
    settings = Settings(
        jwt_secret="s" * 64,
        database_url="postgresql://unused/none",
        google_service_account_json=google.key_json,
        google_drive_orders_folder_id="someone-elses-folder",
        google_api_url=google.url,
    )
    with pytest.raises(IntegrationError) as caught:
        write_line(DriveDocs(settings), "mr_cakelover", TITLE, LINE_21)
    assert not caught.value.retryable
    assert "404" in str(caught.value)


def test_a_key_the_token_endpoint_refuses_is_not_retryable_and_not_shown(google, caplog) -> None:
    capture_everything(caplog)
    other = FakeGoogle.__new__(FakeGoogle)  # a key Google does not know: same account, another private key
    from .fakes.google import service_account_key

    other.key = service_account_key(google.server.url_for(TOKEN_PATH))
    with pytest.raises(IntegrationError) as caught:
        write_line(docs(google, key=FakeGoogle.key_json.fget(other)), "mr_cakelover", TITLE, LINE_21)
    assert not caught.value.retryable
    assert google.files == {}
    assert_secret_hidden(private_key_fragment(other), caplog, caught.value)


def test_a_key_that_is_not_json_is_not_retryable_and_not_quoted(google) -> None:
    with pytest.raises(IntegrationError) as caught:
        write_line(docs(google, key='{"private_key": "-----BEGIN not-a-key 5ecr3t'), "mr_cakelover", TITLE, LINE_21)
    assert not caught.value.retryable
    assert "5ecr3t" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_one_instance_serves_several_threads(google) -> None:
    drive = docs(google)
    customers = [f"customer_{n}" for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(lambda slug: write_line(drive, slug, f"{slug} cancelled orders", LINE_21), customers))
    assert len(set(ids)) == 4
    assert sorted(meta["name"] for meta in google.files.values()) == customers
    assert all(google.documents[i].endswith(f"\n\n{LINE_21}\n") for i in ids)
