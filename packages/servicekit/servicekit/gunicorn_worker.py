"""servicekit's gunicorn worker: gunicorn's threaded worker (gthread) with a front door.

gthread gives a connection to a pool thread as soon as it has a byte to read, and the thread then blocks
on the socket for the rest of the headers and the body: eight clients sending a byte a second held every
thread of a 2 x 4 service. Here the worker's event loop collects each request first, without blocking
(``http_framing.RequestReader``), and a thread gets it only once all of it is there, so a slow client costs
a buffer, not a thread. A request not in full within ``REQUEST_READ_TIMEOUT_SECONDS`` (10 s by default) of
its first byte, or of the connection when it sends nothing, is cut: 408 problem+json, connection closed.
A body larger than the event loop collects (the body limit plus framing) is read by its thread under the
same deadline.

The worker also answers what gunicorn refuses by itself (a malformed request line, header or chunk; a
request line over 4094 bytes; a header over 8190 bytes; an unknown transfer coding) as
``application/problem+json`` instead of gunicorn's HTML page, and refuses an HTTP/1.1 request without
exactly one valid ``Host`` (RFC 9112 section 3.2) with 400 before any application sees it.
"""

from __future__ import annotations

import errno
import json
import os
import re
import selectors
import socket
import time
import weakref
from collections import deque
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.http.message import Request
from gunicorn.http.parser import Parser
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker
from werkzeug.exceptions import RequestTimeout

from .http_framing import HEAD_LIMIT, RequestReader

DEFAULT_READ_TIMEOUT_SECONDS = 10.0
DEFAULT_BODY_LIMIT = 1_048_576
_RECV_SIZE = 64 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# A closing connection is read from (and what it sends dropped) for this long at most, as gunicorn does.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024
# A body the application left unread is dropped from what was collected; one still arriving ends the
# connection rather than hold the thread (gunicorn would read on for up to 5 s).
DRAIN_SECONDS = 0.05
# RFC 9112 section 3.2 / RFC 3986 section 3.2.2: uri-host [ ":" port ], an IP literal or a reg-name.
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]*)?")


class RequestReadTimeout(http_errors.ParseException, RequestTimeout):
    """The request was not in within its deadline. A gunicorn parse error where gunicorn parses (its
    worker answers 408) and an HTTP error where the application reads the body (Flask answers 408)."""

    description = "The request was not received in full in time."


class HostProblem(http_errors.ParseException):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _address(client: object) -> str:
    # A TCP peer is (host, port); a Unix socket's peer is a string, often empty.
    return str(client[0]) if isinstance(client, tuple) and client else str(client or "")


def read_timeout_seconds() -> float:
    return float(os.environ.get("REQUEST_READ_TIMEOUT_SECONDS") or DEFAULT_READ_TIMEOUT_SECONDS)


def problem_bytes(status: int, title: str, detail: str) -> bytes:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {title}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


# gunicorn's refusals, by the exception its parser raises: (status, title, detail). The detail says what
# was wrong without echoing the request back.
_REFUSALS: list[tuple[type[BaseException] | tuple[type[BaseException], ...], tuple[int, str, str]]] = [
    (RequestReadTimeout, (408, "Request Timeout", "The request was not received in full in time.")),
    (
        http_errors.LimitRequestLine,
        (414, "URI Too Long", "The request line is longer than the server accepts (4094 bytes)."),
    ),
    (
        http_errors.LimitRequestHeaders,
        (
            431,
            "Request Header Fields Too Large",
            "A header is larger than the server accepts (8190 bytes), or there are more than 100 headers.",
        ),
    ),
    (http_errors.UnsupportedTransferCoding, (501, "Not Implemented", "The transfer coding is not supported.")),
    (http_errors.ExpectationFailed, (417, "Expectation Failed", "The only expectation understood is 100-continue.")),
    (http_errors.ForbiddenProxyRequest, (403, "Forbidden", "Proxy headers are not accepted from this address.")),
    (http_errors.InvalidRequestLine, (400, "Bad Request", "The request line is malformed.")),
    (http_errors.InvalidRequestMethod, (400, "Bad Request", "The request method is not valid.")),
    (http_errors.InvalidHTTPVersion, (400, "Bad Request", "The HTTP version is not supported.")),
    (http_errors.ObsoleteFolding, (400, "Bad Request", "A header uses obsolete line folding.")),
    (http_errors.InvalidHeaderName, (400, "Bad Request", "A header name is malformed.")),
    (http_errors.InvalidHeader, (400, "Bad Request", "A header is malformed or conflicts with another.")),
    (
        (http_errors.InvalidChunkSize, http_errors.ChunkMissingTerminator, http_errors.InvalidChunkExtension),
        (400, "Bad Request", "The chunked body is malformed."),
    ),
    (
        (http_errors.InvalidProxyLine, http_errors.InvalidProxyHeader, http_errors.InvalidSchemeHeaders),
        (400, "Bad Request", "The proxy or scheme headers are malformed."),
    ),
    (http_errors.ParseException, (400, "Bad Request", "The request could not be parsed.")),
]


def refusal_for(exc: BaseException) -> tuple[int, str, str] | None:
    if isinstance(exc, HostProblem):
        return 400, "Bad Request", exc.detail
    # types-gunicorn (26.2) predates these two classes of gunicorn 27.
    response_errors = (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName)  # type: ignore[attr-defined]
    if isinstance(exc, response_errors):
        return None  # the application's fault, not the client's
    return next((answer for kinds, answer in _REFUSALS if isinstance(exc, kinds)), None)


def host_problem(req: Request) -> str | None:
    hosts = [value for name, value in req.headers if name == "HOST"]
    if len(hosts) > 1:
        return "The request has more than one Host header."
    if not hosts:
        return "An HTTP/1.1 request needs a Host header." if req.version and req.version >= (1, 1) else None
    if not _HOST.fullmatch(hosts[0]):
        return "The Host header is not a valid host[:port]."
    return None


class DeadlineUnreader(SocketUnreader):
    """gunicorn's socket reader with the request's deadline on every read the thread makes past what the
    event loop collected (the rest of a large body, or of an unread one)."""

    deadline = float("inf")
    expired = False

    def arm(self, deadline: float, early: bytes) -> None:
        self.deadline, self.expired = deadline, False
        if early:
            self.buf.seek(0, os.SEEK_END)
            self.buf.write(early)

    def chunk(self, size_hint: int | None = None) -> bytes:
        remaining = self.deadline - time.monotonic()
        if self.expired or remaining <= 0:
            raise self._expire()
        previous = self.sock.gettimeout()
        self.sock.settimeout(remaining if previous is None else min(previous, remaining))
        try:
            return super().chunk(size_hint)  # type: ignore[call-arg]  # gunicorn 27's size hint; stubs are 26.2
        except TimeoutError:
            if time.monotonic() < self.deadline:
                raise  # a shorter timeout of gunicorn's own (its body drain)
            raise self._expire() from None
        finally:
            self.sock.settimeout(previous)

    def _expire(self) -> Exception:
        # Once answered with 408, any further read (gunicorn draining the body) just ends the connection.
        if self.expired:
            return TimeoutError("the request's read deadline has passed")
        self.expired = True
        return RequestReadTimeout()


class _Conn(TConn):
    def __init__(self, worker: GuardedThreadWorker, *args: Any):
        super().__init__(*args)
        self.worker = worker
        self.reader: RequestReader | None = None
        self.deadline = 0.0
        self.early = b""
        self.ready = False
        self.sent_continue = False

    def init(self) -> None:
        super().init()
        if self.is_http2:
            return
        parser = self.parser
        assert isinstance(parser, Parser)  # HTTP/1: gunicorn's request parser, made by super().init()
        if not isinstance(parser.unreader, DeadlineUnreader):
            parser.unreader = DeadlineUnreader(self.sock)
        parser.unreader.arm(self.deadline, self.early)
        self.early = b""

    def close(self, graceful: bool = False) -> None:
        if graceful:
            # gunicorn's graceful close reads what the client still sends for up to 2 s, in the event loop:
            # a client trickling bytes would stall every connection of the worker. It lingers unblocked.
            self.worker.linger(self.sock)
        else:
            super().close()


class GuardedThreadWorker(ThreadWorker):
    """gthread with requests collected in the event loop before a thread takes them, a read deadline,
    a Host check and problem+json refusals (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.read_timeout = read_timeout_seconds()
        body_limit = int(os.environ.get("MAX_CONTENT_LENGTH") or DEFAULT_BODY_LIMIT)
        # One byte past the limit is what the application needs to refuse a body; chunk framing adds a little.
        self.buffer_limit = body_limit + 1 + HEAD_LIMIT
        # (deadline, connection) in deadline order; weak, so a request handed over leaves nothing behind.
        self.reading: deque[tuple[float, weakref.ref[_Conn]]] = deque()
        self.lingering: deque[tuple[float, socket.socket]] = deque()

    # -- the front door: collect a request in the event loop --------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self.read_request(_Conn(self, self.cfg, client_sock, client_addr, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection has the first bytes of its next request."""
        assert isinstance(conn, _Conn)  # accept() makes every connection
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.read_request(conn)

    def enqueue_req(self, conn: TConn) -> None:
        assert isinstance(conn, _Conn)  # accept() makes every connection
        if conn.ready:
            conn.ready = False
            super().enqueue_req(conn)
            return
        # gunicorn hands back a connection whose next (pipelined) request is partly read already.
        self.read_request(conn, conn.parser.unreader.take_buffered() if isinstance(conn.parser, Parser) else b"")

    def read_request(self, conn: _Conn, early: bytes = b"") -> None:
        conn.reader = RequestReader(self.buffer_limit)
        conn.deadline = time.monotonic() + self.read_timeout
        conn.sent_continue = False
        if early and conn.reader.feed(early):
            self._hand_over(conn, registered=False)
        else:
            self._receive(conn, registered=False)

    def _on_readable(self, conn: _Conn, _fileobj: object) -> None:
        self._receive(conn, registered=True)

    def _receive(self, conn: _Conn, registered: bool) -> None:
        reader = conn.reader
        assert reader is not None
        while True:
            try:
                data = conn.sock.recv(_RECV_SIZE, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                if not registered:
                    self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
                    self.reading.append((conn.deadline, weakref.ref(conn)))
                return
            except OSError:
                self._drop(conn, registered)
                return
            if not data:
                # The client stopped sending: gunicorn's parser says what a cut-off request gets.
                if reader.data:
                    self._hand_over(conn, registered)
                else:
                    self._drop(conn, registered)
                return
            if reader.feed(data):
                self._hand_over(conn, registered)
                return
            if reader.wants_continue and not conn.sent_continue:
                # Its body comes only after "100 Continue"; gunicorn then need not send another.
                conn.sent_continue = True
                try:
                    conn.sock.send(_CONTINUE, socket.MSG_DONTWAIT)
                except OSError:
                    pass

    def _hand_over(self, conn: _Conn, registered: bool) -> None:
        if registered:
            self.poller.unregister(conn.sock)
        assert conn.reader is not None
        conn.early = bytes(conn.reader.data)
        conn.reader = None
        conn.data_ready = True  # gthread must not wait for the socket: its bytes are in ``early``
        conn.ready = True
        self.enqueue_req(conn)

    def _drop(self, conn: _Conn, registered: bool) -> None:
        if registered:
            self.poller.unregister(conn.sock)
        conn.reader = None
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """gthread's sweep of idle connections, and the cut of requests past their read deadline."""
        super().murder_pending()
        now = time.monotonic()
        while self.reading and self.reading[0][0] <= now:
            deadline, ref = self.reading.popleft()
            conn = ref()
            if conn is None or conn.reader is None or conn.deadline != deadline:
                continue  # handed over, or collecting a later request with a deadline of its own
            begun = bool(conn.reader.data)
            self.poller.unregister(conn.sock)
            conn.reader = None
            self.nr_conns -= 1
            # A request begun gets its 408; a connection that never sent a byte just closes, as an idle one does.
            if begun:
                status, title, detail = _REFUSALS[0][1]
                self.log.warning("Request timeout from ip=%s after %gs", _address(conn.client), self.read_timeout)
                try:
                    conn.sock.send(problem_bytes(status, title, detail), socket.MSG_DONTWAIT)
                except OSError:
                    pass
            conn.close(graceful=begun)
        while self.lingering and self.lingering[0][0] <= now:
            _, sock = self.lingering.popleft()
            self._end_linger(sock)

    def linger(self, sock: socket.socket) -> None:
        """Close as RFC 9112 section 9.6 asks (FIN first, then read and drop what the client still sends, so
        that no RST cuts the answer short) without ever blocking: bytes are read as they arrive, for
        ``LINGER_SECONDS`` and ``LINGER_BYTES`` at most."""
        try:
            sock.shutdown(socket.SHUT_WR)
            self.poller.register(sock, selectors.EVENT_READ, partial(self._drain_lingering, sock, [0]))
        except (OSError, ValueError, KeyError):
            util.close(sock)
            return
        self.lingering.append((time.monotonic() + LINGER_SECONDS, sock))

    def _drain_lingering(self, sock: socket.socket, drained: list[int], _fileobj: object) -> None:
        while drained[0] < LINGER_BYTES:
            try:
                data = sock.recv(_RECV_SIZE, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                break
            if not data:
                break
            drained[0] += len(data)
        self._end_linger(sock)

    def _end_linger(self, sock: socket.socket) -> None:
        if sock.fileno() < 0:
            return  # closed already
        try:
            self.poller.unregister(sock)
        except (KeyError, ValueError):
            pass
        util.close(sock)

    # -- in the thread ---------------------------------------------------------------------------------

    def _keepalive_after(self, conn: TConn, keepalive: bool) -> bool:
        if not keepalive:
            return False
        assert isinstance(conn.parser, Parser)  # a kept-alive HTTP/1 connection
        try:
            return bool(conn.parser.finish_body(deadline=time.monotonic() + DRAIN_SECONDS))
        except Exception:  # noqa: BLE001 - a malformed rest of a body, after the answer has gone: just close
            return False

    def handle_request(self, req: Request, conn: TConn) -> bool:
        problem = host_problem(req)
        if problem:
            raise HostProblem(problem)
        if isinstance(conn, _Conn) and conn.sent_continue:
            # gunicorn's own flag (private, so not in its stubs): the 100 Continue has gone already.
            req._expected_100_continue = False  # type: ignore[attr-defined]
        return super().handle_request(req, conn)

    def handle_error(self, req: Request | None, client: socket.socket, addr: object, exc: BaseException) -> None:
        refusal = refusal_for(exc)
        if refusal is None:
            status, title = 500, "Internal Server Error"
            detail = "An unexpected error occurred."
            self.log.exception("Error handling request %s", getattr(req, "uri", "(no URI read)"))
        else:
            status, title, detail = refusal
            self.log.warning("Invalid request from ip=%s: %s", _address(addr), exc)
        try:
            util.write_nonblock(client, problem_bytes(status, title, detail))
        except OSError:
            self.log.debug("Failed to send error message.")
