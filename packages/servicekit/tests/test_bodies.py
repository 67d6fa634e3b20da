"""Bodies are limited by the bytes read, whatever the framing, and JSON is UTF-8 with unique keys.

The sample app's limit is 2048 bytes (conftest). A chunked body reaches the app as gunicorn hands it over:
a de-chunked ``wsgi.input`` with no ``Content-Length`` and ``wsgi.input_terminated`` set.

Each test here failed on the tree before servicekit.bodies (checked by running them there), but for the
controls (a body at the limit, broken gzip, the parser's properties): a chunked body past the limit was
cut at the limit and parsed (201), gzip bodies were not decoded (400), duplicate keys kept the last value
(201), and UTF-16 or BOM bodies were decoded by guesswork (201).
"""

from __future__ import annotations

import gzip
import io
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from servicekit.bodies import loads_strict
from servicekit.errors import ApiProblem
from test_errors import assert_problem

LIMIT = 2048


def post_chunked(client, auth, raw: bytes, **headers):
    """Like gunicorn hands over a chunked body: no Content-Length, a stream that ends by itself."""
    return client.post(
        "/items",
        input_stream=io.BytesIO(raw),
        headers={**auth, "Content-Type": "application/json", **headers},
        environ_overrides={"wsgi.input_terminated": True},
    )


def padded(valid: dict, total: int) -> bytes:
    """A valid JSON object followed by spaces and garbage, ``total`` bytes in all (the issue's attack)."""
    head = json.dumps(valid).encode()
    return head + b" " * (total - len(head) - 7) + b"GARBAGE"


def test_a_chunked_body_past_the_limit_is_413_not_its_first_bytes_parsed(client, auth) -> None:
    response = post_chunked(client, auth, padded({"name": "cake", "quantity": 1}, LIMIT + 100))
    assert_problem(response, 413)


def test_a_chunked_body_one_byte_over_the_limit_is_413_and_at_the_limit_is_read(client, auth) -> None:
    body = json.dumps({"name": "cake", "quantity": 1}).encode()
    at_limit = body + b" " * (LIMIT - len(body))
    assert post_chunked(client, auth, at_limit).status_code == 201
    assert_problem(post_chunked(client, auth, at_limit + b" "), 413)


def test_a_huge_chunked_body_is_413_not_malformed(client, auth) -> None:
    response = post_chunked(client, auth, b"[" + b"1," * 2_000_000 + b"1]")
    assert_problem(response, 413)


@pytest.mark.parametrize("coding, pack", [("gzip", gzip.compress), ("deflate", zlib.compress)])
def test_a_compressed_body_is_decoded(client, auth, coding, pack) -> None:
    raw = pack(json.dumps({"name": "cake", "quantity": 2}).encode())
    response = client.post(
        "/items", data=raw, headers={**auth, "Content-Type": "application/json", "Content-Encoding": coding}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"name": "cake", "quantity": 2}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_compressed_body_that_unpacks_past_the_limit_is_413(client, auth, chunked) -> None:
    bomb = gzip.compress(padded({"name": "cake", "quantity": 1}, 1_000_000), compresslevel=9)
    assert len(bomb) < LIMIT  # within the limit on the wire, 1 MB unpacked
    headers = {"Content-Encoding": "gzip"}
    if chunked:
        response = post_chunked(client, auth, bomb, **headers)
    else:
        response = client.post("/items", data=bomb, headers={**auth, "Content-Type": "application/json", **headers})
    assert_problem(response, 413)


@pytest.mark.parametrize(
    "coding, raw, status",
    [
        ("br", b"\x0b\x02\x80{}\x03", 415),
        ("gzip, gzip", gzip.compress(gzip.compress(b"{}")), 415),
        ("gzip", b"{not gzip at all}", 400),
        ("gzip", gzip.compress(b'{"name": "cake", "quantity": 1}')[:-12], 400),
        ("gzip", gzip.compress(b'{"name": "cake", "quantity": 1}') + b"trailing", 400),
    ],
    ids=["unknown-coding", "two-codings", "not-gzip", "truncated", "trailing-bytes"],
)
def test_unsupported_or_broken_compression_is_refused(client, auth, coding, raw, status) -> None:
    response = client.post(
        "/items", data=raw, headers={**auth, "Content-Type": "application/json", "Content-Encoding": coding}
    )
    assert_problem(response, status)
    if status == 415:
        assert response.headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "cake", "quantity": 1, "name": "pie"}',
        b'{"name": "cake", "quantity": 1, "extra": {"a": 1, "a": 2}}',
        b'{"name": "cake", "quantity": 1, "quantity": 1}',
    ],
    ids=["top-level", "nested", "same-value"],
)
def test_a_duplicate_key_is_400(client, auth, raw) -> None:
    response = client.post("/items", data=raw, headers={**auth, "Content-Type": "application/json"})
    body = assert_problem(response, 400)
    assert body["title"] == "Duplicate key in JSON"


@pytest.mark.parametrize(
    "raw, content_type",
    [
        ('{"name": "cake", "quantity": 1}'.encode("utf-16"), "application/json"),
        ('{"name": "cake", "quantity": 1}'.encode("utf-16-le"), "application/json"),
        ('{"name": "cake", "quantity": 1}'.encode("utf-16-be"), "application/json"),
        ('{"name": "cake", "quantity": 1}'.encode("utf-32"), "application/json"),
        ('{"name": "cake", "quantity": 1}'.encode("utf-8-sig"), "application/json"),
        ('{"name": "caf\u00e9", "quantity": 1}'.encode("latin-1"), "application/json"),
        (b'{"name": "cake", "quantity": 1}', "application/json; charset=utf-16"),
        (b'{"name": "cake", "quantity": 1}', "application/json; charset=iso-8859-1"),
    ],
    ids=["utf-16-bom", "utf-16-le", "utf-16-be", "utf-32", "utf-8-bom", "latin-1", "charset-utf-16", "charset-latin"],
)
def test_json_that_is_not_utf8_is_415(client, auth, raw, content_type) -> None:
    response = client.post("/items", data=raw, headers={**auth, "Content-Type": content_type})
    assert_problem(response, 415)


def test_utf8_json_with_a_utf8_charset_is_read(client, auth) -> None:
    raw = '{"name": "caf\u00e9", "quantity": 1}'.encode()
    response = client.post("/items", data=raw, headers={**auth, "Content-Type": "application/json; charset=UTF-8"})
    assert response.status_code == 201 and response.get_json()["name"] == "caf\u00e9"


@pytest.mark.parametrize("raw", [b'{"name": "cake", "quantity": NaN}', b"[Infinity]", b'{"name": "\\ud800"}', b""])
def test_what_is_not_json_text_is_400(client, auth, raw) -> None:
    response = client.post("/items", data=raw, headers={**auth, "Content-Type": "application/json"})
    assert_problem(response, 400)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=60)
@given(json_values)
def test_loads_strict_reads_every_json_document_as_json_does(value) -> None:
    for raw in (json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode()):
        assert loads_strict(raw) == json.loads(raw)


@settings(max_examples=60)
@given(st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=6), st.data())
def test_loads_strict_refuses_any_repeated_key(value, data) -> None:
    key = data.draw(st.sampled_from(sorted(value)))
    raw = json.dumps(value)[:-1] + ", " + json.dumps(key) + ": 0}"
    with pytest.raises(ApiProblem) as refused:
        loads_strict(raw.encode())
    assert refused.value.status == 400 and refused.value.title == "Duplicate key in JSON"
