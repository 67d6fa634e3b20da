"""Where an HTTP/1.x request ends, judged from its bytes as they arrive (RFC 9112 sections 6 and 7.1).

servicekit's gunicorn worker collects each request in its event loop with a ``RequestReader`` and hands it
to a thread only once ``feed`` says it is all there, so a client that sends slowly holds no thread. The
reader only finds the end; gunicorn's parser still parses and refuses. Whatever the reader cannot judge
(bare LF line ends, a malformed length or chunk size, ``Transfer-Encoding`` without ``chunked`` last, a
header section over ``HEAD_LIMIT``) counts as complete at once, so gunicorn's parser sees it and answers.
A body is collected up to ``body_limit`` bytes; past that the request is handed over, and the thread reads
the rest under the same deadline.
"""

from __future__ import annotations

import re

HEAD_LIMIT = 64 * 1024
# Only these headers change where a request ends; a request without them (most GETs) is judged by one search.
_FRAMING = re.compile(rb"\n(?:content-length|transfer-encoding|expect)[ \t]*:", re.IGNORECASE)
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_LENGTH = re.compile(rb"[0-9]{1,18}")
_SIZE_LINE_LIMIT = 4096


class RequestReader:
    """The bytes of one request; ``feed`` returns True once they are all there (or past judging)."""

    def __init__(self, body_limit: int):
        self.data = bytearray()
        self.complete = False
        # The request expects "100 Continue" before it sends the body that has yet to come.
        self.wants_continue = False
        self._body_limit = body_limit
        self._scanned = 0
        self._head_end: int | None = None
        self._body_end: int | None = None  # with Content-Length (or no body)
        self._chunk_at: int | None = None  # chunked: where the next chunk-size line starts

    def feed(self, data: bytes) -> bool:
        self.data += data
        if self._head_end is None:
            self._find_head()
        if self._head_end is not None and not self.complete:
            self._find_body()
        if self.complete:
            self.wants_continue = False
        return self.complete

    def _find_head(self) -> None:
        start = max(0, self._scanned - 3)
        end = self.data.find(b"\r\n\r\n", start)
        if end < 0:
            # Bare LF line ends, or a header section too large to wait for: gunicorn's parser decides.
            self.complete = self.data.find(b"\n\n", start) >= 0 or len(self.data) > HEAD_LIMIT
            self._scanned = len(self.data)
            return
        self._head_end = head_end = end + 4
        head = bytes(self.data[:end])
        if not _FRAMING.search(head):
            self._body_end = head_end
            return
        self._framing(head, head_end)

    def _framing(self, head: bytes, head_end: int) -> None:
        request_line, _, fields = head.partition(b"\r\n")
        lengths, codings, expects_continue = [], [], False
        for line in fields.split(b"\r\n"):
            name, colon, value = line.partition(b":")
            if not colon:
                continue
            name, value = name.lower(), value.strip(b" \t")
            if name == b"content-length":
                lengths.append(value)
            elif name == b"transfer-encoding":
                codings.append(value)
            elif name == b"expect":
                expects_continue = value.lower() == b"100-continue"
        if codings:
            last = codings[-1].rsplit(b",", 1)[-1].strip(b" \t").lower()
            if lengths or last != b"chunked":
                self.complete = True  # gunicorn refuses both (400 or 501)
                return
            self._chunk_at = head_end
        elif lengths:
            if len(set(lengths)) != 1 or not _LENGTH.fullmatch(lengths[0]):
                self.complete = True  # gunicorn refuses it (400)
                return
            self._body_end = head_end + int(lengths[0])
        else:
            self._body_end = head_end
        has_body = self._chunk_at is not None or (self._body_end is not None and self._body_end > head_end)
        self.wants_continue = expects_continue and has_body and request_line.endswith(b" HTTP/1.1")

    def _find_body(self) -> None:
        assert self._head_end is not None
        if len(self.data) - self._head_end >= self._body_limit:
            self.complete = True
        elif self._body_end is not None:
            self.complete = len(self.data) >= self._body_end
        else:
            self._find_last_chunk()

    def _find_last_chunk(self) -> None:
        data, at = self.data, self._chunk_at
        assert at is not None
        while True:
            line_end = data.find(b"\r\n", at)
            if line_end < 0:
                self.complete = len(data) - at > _SIZE_LINE_LIMIT
                break
            size_text = bytes(data[at:line_end]).split(b";", 1)[0].strip(b" \t")
            if not _CHUNK_SIZE.fullmatch(size_text):
                self.complete = True  # gunicorn refuses it (400)
                break
            size = int(size_text, 16)
            if size == 0:
                # The trailer section (often empty) ends with an empty line.
                end = data.find(b"\r\n\r\n", line_end)
                self.complete = end >= 0 or len(data) - line_end > HEAD_LIMIT
                break
            chunk_end = line_end + 2 + size
            if len(data) < chunk_end + 2:
                break
            if data[chunk_end : chunk_end + 2] != b"\r\n":
                self.complete = True  # gunicorn refuses it (400)
                break
            at = chunk_end + 2
        self._chunk_at = at
