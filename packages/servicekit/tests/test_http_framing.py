"""``RequestReader`` finds where a request ends however its bytes are split, and never waits on what
gunicorn's parser must judge."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from servicekit.http_framing import HEAD_LIMIT, RequestReader

LIMIT = 1_048_576


def chunked(body: bytes, sizes: list[int], trailers: bytes = b"") -> bytes:
    out, at = b"", 0
    for size in sizes:
        if at >= len(body):
            break
        piece = body[at : at + size]
        out += f"{len(piece):x}".encode() + b"\r\n" + piece + b"\r\n"
        at += len(piece)
    if at < len(body):
        out += f"{len(body) - at:x};ext=1".encode() + b"\r\n" + body[at:] + b"\r\n"
    return out + b"0\r\n" + trailers + b"\r\n"


@st.composite
def requests_(draw) -> bytes:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
    body = draw(st.binary(max_size=300))
    names = st.sampled_from(["X-A", "Accept", "X-Content-Lengthy"])
    extra = draw(st.lists(st.tuples(names, st.text("abc ", max_size=9))))
    head = [f"{method} /p?q=1 HTTP/1.1", "Host: x", *(f"{k}: {v}".strip() for k, v in extra)]
    framing = draw(st.sampled_from(["length", "chunked", "none"] if not body else ["length", "chunked"]))
    if framing == "length":
        head.append(f"{draw(st.sampled_from(['Content-Length', 'content-length', 'CONTENT-LENGTH']))}: {len(body)}")
        payload = body
    elif framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        sizes = draw(st.lists(st.integers(1, 64), min_size=1, max_size=10))
        trailers = draw(st.sampled_from([b"", b"X-Checksum: 1\r\n"]))
        payload = chunked(body, sizes, trailers)
    else:
        payload = b""
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


@given(requests_(), st.lists(st.integers(0, 10_000), max_size=20))
def test_complete_exactly_when_the_last_byte_arrives(request, cuts) -> None:
    reader = RequestReader(LIMIT)
    pieces = split(request, cuts)
    for index, piece in enumerate(pieces):
        done = reader.feed(piece)
        assert done == (index == len(pieces) - 1), (request, index, len(pieces))
    assert bytes(reader.data) == request


@given(requests_(), requests_())
def test_a_pipelined_request_after_a_complete_one_changes_nothing(first, second) -> None:
    reader = RequestReader(LIMIT)
    assert reader.feed(first + second)
    assert bytes(reader.data) == first + second


def test_a_get_is_complete_at_its_empty_line() -> None:
    reader = RequestReader(LIMIT)
    assert not reader.feed(b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert reader.feed(b"\r\n")


def test_a_body_is_collected_up_to_the_limit_then_handed_over() -> None:
    reader = RequestReader(1000)
    assert not reader.feed(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"x" * 999)
    assert reader.feed(b"x")
    chunks = RequestReader(1000)
    assert not chunks.feed(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert chunks.feed(b"ffff\r\n" + b"x" * 1000)


@pytest.mark.parametrize(
    "head",
    [
        b"POST / HTTP/1.1\nHost: x\n\n",  # bare LF
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY",
        b"GET /" + b"a" * (HEAD_LIMIT + 1),
    ],
    ids=[
        "bare-lf",
        "two-lengths",
        "negative-length",
        "length-not-digits",
        "unknown-coding",
        "chunked-not-last",
        "chunked-and-length",
        "bad-chunk-size",
        "chunk-without-crlf",
        "huge-head",
    ],
)
def test_what_gunicorn_must_refuse_is_handed_over_at_once(head) -> None:
    assert RequestReader(LIMIT).feed(head)


def test_expect_100_continue_is_asked_for_only_while_a_body_is_awaited() -> None:
    waiting = RequestReader(LIMIT)
    waiting.feed(b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    assert waiting.wants_continue
    assert waiting.feed(b"abc") and not waiting.wants_continue
    no_body = RequestReader(LIMIT)
    assert no_body.feed(b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")
    assert not no_body.wants_continue
    old = RequestReader(LIMIT)
    old.feed(b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    assert not old.wants_continue
