"""The words sent out, the webhook signature rule and the daily schedule's clock."""

import hashlib
import hmac
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bakery_service.domain import messages
from bakery_service.domain.amounts import Amount
from bakery_service.domain.jira_events import closed_with_missing_ingredients, verify_signature
from bakery_service.domain.schedule import next_run
from hypothesis import given, settings
from hypothesis import strategies as st
from servicekit.domain_errors import Unauthenticated


def test_cancelled_line_is_the_briefs_template() -> None:
    when = datetime(2022, 1, 1, 6, 10, tzinfo=UTC)
    assert messages.cancelled_line(21, "Chocolate Cake", when) == "- Order 21 [Chocolate Cake] : Date 01/01/2022 06:10"
    assert messages.cancelled_title("Mr Cakelover") == "Mr Cakelover cancelled orders"


def test_order_ticket_has_a_table_and_a_link_back() -> None:
    summary, description = messages.order_ticket(
        21, [("chocolate", Amount(Decimal("268.0"), "g")), ("eggs", Amount(Decimal("8"), "unit"))], "http://b/orders/21"
    )
    assert summary == "Order #21"
    assert "| chocolate | 268 g |" in description and "| eggs | 8 |" in description
    assert "http://b/orders/21" in description


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"issue": {"key": "BAKE-1"}}'
    good = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    verify_signature("secret", body, good)
    for header in (None, "", "sha256=00", good.replace("sha256", "sha1"), good + "0"):
        with pytest.raises(Unauthenticated):
            verify_signature("secret", body, header)
    with pytest.raises(Unauthenticated, match="not configured"):
        verify_signature(None, body, good)
    with pytest.raises(Unauthenticated):
        verify_signature("secret", body + b" ", good)


@pytest.mark.parametrize(
    "header",
    ["sha256=é", "sha256=" + "é" * 64, "sha256=" + "0" * 6400, "sha256==", "=", "sha256", "sha256=zz" * 32, "\x00"],
)
def test_a_malformed_signature_is_a_refusal_not_an_error(header: str) -> None:
    with pytest.raises(Unauthenticated):
        verify_signature("secret", b"{}", header)


@settings(max_examples=500, deadline=None)
@given(
    header=st.one_of(
        st.text(),
        st.builds(lambda s: "sha256=" + s, st.text()),
        st.builds(lambda s: "sha256=" + s, st.text(alphabet="0123456789abcdefABCDEFé ", min_size=60, max_size=70)),
    ),
    body=st.binary(max_size=64),
)
def test_the_webhook_verifier_refuses_any_header_with_401s_error(header: str, body: bytes) -> None:
    """Whatever the header holds, Unauthenticated (401) and nothing else: compare_digest raised TypeError on
    non-ASCII text, a 500."""
    good = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    if header.strip().lower() == good:
        verify_signature("secret", body, header)
        return
    with pytest.raises(Unauthenticated):
        verify_signature("secret", body, header)


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"status": {"name": "Done", "statusCategory": {"key": "done"}}, "labels": ["missing-ingredients"]}, True),
        ({"status": {"name": "Closed"}, "labels": ["x", "missing-ingredients"]}, True),
        (
            {
                "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
                "labels": ["missing-ingredients"],
            },
            False,
        ),
        ({"status": {"name": "Done"}, "labels": []}, False),
        ({"status": {"name": "Done"}, "labels": "missing-ingredients"}, False),
        ({"status": ["Done"], "labels": ["missing-ingredients"]}, False),
        ({"status": {"name": "Done", "statusCategory": "done"}, "labels": ["missing-ingredients"]}, True),
    ],
)
def test_only_a_closed_ticket_with_the_label_cancels(fields, expected) -> None:
    assert closed_with_missing_ingredients({"key": "BAKE-1", "fields": fields}) is expected


def test_fields_of_the_wrong_shape_are_not_a_closed_ticket() -> None:
    assert closed_with_missing_ingredients({"key": "BAKE-1", "fields": ["labels"]}) is False


def test_next_run_is_the_next_hour_strictly_after_now() -> None:
    assert next_run(datetime(2026, 1, 1, 5, 59, tzinfo=UTC), 6) == datetime(2026, 1, 1, 6, tzinfo=UTC)
    assert next_run(datetime(2026, 1, 1, 6, 0, tzinfo=UTC), 6) == datetime(2026, 1, 2, 6, tzinfo=UTC)
    assert next_run(datetime(2026, 12, 31, 23, 0, tzinfo=UTC), 6) == datetime(2027, 1, 1, 6, tzinfo=UTC)
