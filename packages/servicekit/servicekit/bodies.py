"""Request bodies as the bytes actually read: one size limit whatever the framing, and strict JSON.

werkzeug checks ``Content-Length`` against the limit, but a chunked body (no length) is read through a
``LimitedStream`` that stops quietly at the limit: the first MiB of a larger body was parsed as if it were
all of it. Here every body, with a length, chunked or compressed, is counted as it is read and refused with
413 one byte past the limit; a compressed body is counted before and after decoding, so a small gzip bomb
is refused as soon as it unpacks past the limit.

JSON is taken as RFC 8259 says it travels: UTF-8 without a byte order mark (415 otherwise), no duplicate
keys and no ``NaN``/``Infinity`` (400), so that what a client meant is never decided by which copy of a key
a parser keeps.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from typing import IO, Any

from flask import Flask, Request
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_content_length

from .errors import ApiProblem

READ_SIZE = 64 * 1024
# Content codings a body may arrive in, and zlib's window bits for each (gzip header, zlib header).
_DECODERS = {"gzip": 31, "x-gzip": 31, "deflate": 15}
ACCEPTED_ENCODINGS = "gzip, deflate"


def _too_large(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(f"The request body is larger than this endpoint accepts ({limit} bytes).")


class _AtMost(io.RawIOBase):
    """A body stream that raises 413 once more than ``limit`` bytes come out of it."""

    def __init__(self, source: IO[bytes], limit: int | None, remaining: int | None = None):
        self._source = source
        self._limit = limit
        self._remaining = remaining  # the Content-Length still to come, when there is one
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        if self._remaining is not None:
            size = min(size, self._remaining)
        if self._limit is not None:
            # One byte past the limit is enough to know the body is too large.
            size = min(size, self._limit + 1 - self._count)
        if size <= 0:
            return 0
        try:
            data = self._source.read(size)
        except HTTPException:
            raise
        except Exception:  # noqa: BLE001 - whatever the server's reader raises, the body could not be read
            # The server could not read the body as framed (a malformed chunk, a client gone): not our fault.
            raise BadRequest("The request body could not be read as sent (malformed framing, or cut off).") from None
        if not data:
            return 0
        self._count += len(data)
        if self._remaining is not None:
            self._remaining -= len(data)
        if self._limit is not None and self._count > self._limit:
            raise _too_large(self._limit)
        buffer[: len(data)] = data
        return len(data)


class _Decoded(io.RawIOBase):
    """A gzip or deflate body, decoded as it is read, never producing more than ``limit`` bytes."""

    def __init__(self, source: IO[bytes], wbits: int, limit: int | None):
        self._source = source
        self._decoder = zlib.decompressobj(wbits)
        self._limit = limit
        self._count = 0
        self._pending = b""  # compressed input the decoder has not consumed yet
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        if self._limit is not None:
            size = min(size, self._limit + 1 - self._count)
        while True:
            if self._decoder.eof:
                if self._decoder.unused_data or self._source.read(1):
                    raise ApiProblem(400, "Malformed body", "The compressed body has data after its end.")
                return 0
            if not self._pending and not self._eof:
                self._pending = self._source.read(READ_SIZE)
                self._eof = not self._pending
            if self._eof and not self._pending:
                raise ApiProblem(400, "Malformed body", "The compressed body ends before its end marker.")
            try:
                data = self._decoder.decompress(self._pending, max(1, size))
            except zlib.error:
                raise ApiProblem(400, "Malformed body", "The body is not valid data of its Content-Encoding.") from None
            self._pending = self._decoder.unconsumed_tail
            if data:
                self._count += len(data)
                if self._limit is not None and self._count > self._limit:
                    raise _too_large(self._limit)
                buffer[: len(data)] = data
                return len(data)


def bounded_body(environ: dict[str, Any], limit: int | None) -> IO[bytes]:
    """The request body as a stream that refuses (413) to yield more than ``limit`` bytes, decoded from
    its ``Content-Encoding`` (gzip or deflate; 415 for any other)."""
    length = get_content_length(environ)
    if limit is not None and length is not None and length > limit:
        raise _too_large(limit)
    source = environ["wsgi.input"]
    if length is None and not environ.get("wsgi.input_terminated"):
        # Neither a length nor a server that ends the stream: nothing can be read safely.
        return io.BytesIO()
    stream: IO[bytes] = io.BufferedReader(_AtMost(source, limit, length), READ_SIZE)
    coding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if coding and coding != "identity":
        wbits = _DECODERS.get(coding)
        if wbits is None:
            raise ApiProblem(
                415,
                "Unsupported Media Type",
                f"Send the body uncompressed or in one of these content codings: {ACCEPTED_ENCODINGS}.",
                headers={"Accept-Encoding": ACCEPTED_ENCODINGS},
            )
        stream = io.BufferedReader(_Decoded(stream, wbits, limit), READ_SIZE)
    return stream


class BoundedRequest(Request):
    """Flask's request whose body (``data``, ``form``, ``get_json``) is read through ``bounded_body``, with
    the request's ``max_content_length`` (``MAX_CONTENT_LENGTH``, or a route's own limit)."""

    @cached_property
    def stream(self) -> IO[bytes]:
        if self.shallow:
            raise RuntimeError("This request is shallow; its body cannot be read.")
        return bounded_body(self.environ, self.max_content_length)


def limit_bodies(app: Flask, max_content_length: int) -> None:
    """Read every body of ``app`` through ``bounded_body``: 413 one byte past ``max_content_length`` (or a
    route's own limit), whatever the framing."""
    app.request_class = BoundedRequest
    app.config["MAX_CONTENT_LENGTH"] = max_content_length


# What a body starting with these bytes is: byte order marks, and the zero bytes of UTF-16/32 text.
_NOT_UTF8 = (
    (b"\xef\xbb\xbf", "starts with a byte order mark"),
    (b"\x00\x00\xfe\xff", "is UTF-32"),
    (b"\xff\xfe\x00\x00", "is UTF-32"),
    (b"\xfe\xff", "is UTF-16"),
    (b"\xff\xfe", "is UTF-16"),
)
# A \u escape of a UTF-16 surrogate; only then can a parsed string hold one that UTF-8 cannot carry.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _not_utf8(detail: str) -> ApiProblem:
    return ApiProblem(
        415, "Unsupported Media Type", f"The body {detail}; send JSON as UTF-8 without a byte order mark."
    )


def check_utf8_json(raw: bytes, charset: str | None) -> str:
    """The body as text, or 415 when it is not UTF-8 JSON (a charset other than UTF-8, a byte order mark,
    UTF-16/32, bytes that are not UTF-8)."""
    if charset and charset.strip().lower() not in ("utf-8", "utf8"):
        raise ApiProblem(
            415, "Unsupported Media Type", f"The charset {charset[:40]!r} is not accepted; send JSON as UTF-8."
        )
    for prefix, what in _NOT_UTF8:
        if raw.startswith(prefix):
            raise _not_utf8(what)
    # JSON text starts with an ASCII character, so a zero byte among the first two means UTF-16 or UTF-32.
    if raw[:2].count(b"\x00"):
        raise _not_utf8("is UTF-16 or UTF-32")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(f"is not UTF-8 (byte {exc.start})") from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_strict(raw: bytes, charset: str | None = None) -> Any:
    """Parse a JSON body: 415 unless UTF-8, 400 for malformed JSON, a duplicate key, NaN/Infinity or an
    escaped lone surrogate (which no UTF-8 text, and so no database column, can hold)."""
    text = check_utf8_json(raw, charset)
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
    except _DuplicateKey as exc:
        raise ApiProblem(
            400, "Duplicate key in JSON", f"The key {exc.key[:100]!r} appears more than once in one object."
        ) from None
    except ValueError:
        raise ApiProblem(400, "Malformed JSON", "The request body is not valid JSON.") from None
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ApiProblem(
                400, "Malformed JSON", "The request body escapes a lone UTF-16 surrogate, which is not text."
            ) from None
    return data
