"""R13 through a real socket, in front of and through gunicorn: a service (dispatch-service) under its own
gunicorn configuration, servicekit's worker and a short read deadline, sent what hostile or careless
clients send. Every server of the local stack gets the same probes in tests/e2e/test_hostile_transport.py.

Failed on the tree before servicekit's worker and servicekit.bodies (checked by running them there): no Host
was 200; gunicorn's own 400/417/501 pages were HTML; a chunked body past the limit was cut to 1 MiB and
parsed, a 50 MB one was "Malformed JSON"; a gzip body was not decoded; duplicate keys were accepted; and
with 20 slow connections every request to the service waited (the read timed out after 30 s).
"""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from servicekit import ServiceSettings, issue_token
from suite_support import ROOT, TEST_SECRET, offline_env
from testkit.servers import free_port, start_gunicorn, stop_process
from transport_probes import (
    MiB,
    SlowClients,
    body_operation,
    chunked,
    delay_beside_slow_clients,
    exchange,
    latencies_ms,
    parse_answer,
    post,
    request_bytes,
    valid_then_padding,
)

pytestmark = pytest.mark.integration
DEADLINE = 3.0


@pytest.fixture(scope="module")
def port(tmp_path_factory) -> int:
    port = free_port()
    env = {
        **offline_env(free_port()),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics")),
        "REQUEST_READ_TIMEOUT_SECONDS": str(DEADLINE),
    }
    proc = start_gunicorn(ROOT / "dispatch-service", port=port, env=env)
    yield port
    stop_process(proc)


@pytest.fixture(scope="module")
def auth() -> dict[str, str]:
    token = issue_token(ServiceSettings(jwt_secret=TEST_SECRET), "transport-test")[0]
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def route(port) -> str:
    operation = body_operation(f"http://127.0.0.1:{port}")
    assert operation is not None and operation[0] == "POST", operation
    return operation[1]


@pytest.mark.parametrize(
    "host, detail",
    [(None, "needs a Host"), ("a b", "not a valid host"), ("x/y", "not a valid host"), ("u@x", "not a valid host")],
    ids=["missing", "space", "slash", "userinfo"],
)
def test_an_http11_request_without_one_valid_host_is_a_400_problem(port, host, detail) -> None:
    answer = parse_answer(exchange(port, request_bytes("GET", "/healthz", host=host)))
    assert answer.status == 400 and detail in answer.problem()["detail"]


def test_two_hosts_are_refused_and_http10_needs_none(port) -> None:
    twice = parse_answer(exchange(port, b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"))
    assert twice.status == 400 and twice.problem()
    assert parse_answer(exchange(port, b"GET /healthz HTTP/1.0\r\n\r\n")).status == 200
    assert parse_answer(exchange(port, request_bytes("GET", "/healthz", host="127.0.0.1:80"))).status == 200
    assert parse_answer(exchange(port, request_bytes("GET", "/healthz", host="[::1]:8000"))).status == 200


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", 501),
        (b"GARBAGE\r\n\r\n", 400),
        (b"G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400),
        (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417),
        (b"GET /healthz?" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", 431),
    ],
    ids=[
        "unknown-coding",
        "no-request-line",
        "bad-method",
        "bad-version",
        "bad-header-name",
        "two-lengths",
        "unknown-expectation",
        "line-too-long",
        "header-too-large",
    ],
)
def test_every_refusal_gunicorn_writes_is_problem_json(port, raw, status) -> None:
    answer = parse_answer(exchange(port, raw))
    assert answer.status == status, answer.raw[:300]
    assert answer.problem()["detail"]
    assert answer.headers["connection"] == "close"


@pytest.mark.parametrize(
    "total, framing",
    [(MiB + 100, "chunked"), (50 * MiB, "chunked"), (MiB + 100, "length"), (50 * MiB, "gzip")],
    ids=["chunked-just-over", "chunked-50MB", "length-just-over", "gzip-50MB-unpacked"],
)
def test_a_body_past_the_limit_is_a_413_however_it_is_framed(port, auth, route, total, framing) -> None:
    body = valid_then_padding({"driver_id": "d1", "package_id": "p1", "status": "delivered"}, total)
    answer = post(port, route, body, auth, framing=framing)
    assert answer.status == 413, answer.raw[:400]
    assert answer.problem()["title"] == "Request Entity Too Large"


@pytest.mark.parametrize("framing", [b"zz\r\n", b"3\r\nabcXY", b"5\r\nab"], ids=["size", "terminator", "cut-off"])
def test_a_malformed_chunked_body_is_a_400_problem(port, auth, route, framing) -> None:
    """Read by the application, a chunk gunicorn cannot parse was a 500; the body was not the server's fault."""
    headers = {**auth, "Transfer-Encoding": "chunked"}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request_bytes("POST", route, framing, headers))
        if framing.endswith(b"ab"):
            sock.shutdown(socket.SHUT_WR)  # the client gives up in the middle of a chunk
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    answer = parse_answer(received)
    assert answer.status == 400 and answer.problem()
    assert received.count(b"HTTP/1.1 ") == 1, received


def test_a_small_gzip_body_is_read_like_a_plain_one(port, auth, route) -> None:
    body = json.dumps({"unexpected": True}).encode()
    plain, packed = post(port, route, body, auth), post(port, route, body, auth, framing="gzip")
    assert plain.status == packed.status == 422
    assert plain.problem()["errors"] == packed.problem()["errors"]


@pytest.mark.parametrize(
    "raw, status",
    [
        (b'{"driver_id": "a", "driver_id": "b"}', 400),
        ('{"driver_id": "a"}'.encode("utf-16"), 415),
        ('{"driver_id": "a"}'.encode("utf-8-sig"), 415),
    ],
    ids=["duplicate-key", "utf-16", "utf-8-bom"],
)
def test_duplicate_keys_and_json_that_is_not_utf8_are_refused(port, auth, route, raw, status) -> None:
    for framing in ("length", "chunked"):
        answer = post(port, route, raw, auth, framing=framing)
        assert answer.status == status and answer.problem(), (framing, answer.raw[:300])


def test_the_delay_beside_slow_clients_is_counted_against_the_same_requests_without_them() -> None:
    quick, busy = [5.0] * 30, [5.0] * 25 + [150.0] * 5  # a machine busy for its own reasons: both alike
    assert delay_beside_slow_clients(quick, quick) is None
    assert delay_beside_slow_clients(busy, busy) is None
    assert delay_beside_slow_clients(busy, [5.0] * 24 + [240.0] * 6) is None  # 9 in 10: 90 ms more
    held = [5.0] * 26 + [3000.0] * 4  # three waited for a thread a slow client held
    assert "delayed 2995 ms" in (delay_beside_slow_clients(quick, held) or "")
    assert delay_beside_slow_clients(quick, [5.0] * 26 + [120.0] * 4), "9 in 10 delayed 115 ms"
    assert delay_beside_slow_clients(busy, busy[:-1] + [1200.0]), "one near a second"


def test_twenty_slow_clients_delay_no_one_and_are_cut_at_the_deadline(port) -> None:
    url = f"http://127.0.0.1:{port}/healthz"
    without = latencies_ms(url, count=30)
    with SlowClients(port, count=20) as slow:
        beside = latencies_ms(url, count=30)
        time.sleep(DEADLINE + 1.5)  # every slow request is past its deadline
    # Before, with 2 workers x 4 threads, the first request beside them already waited the read out (30 s).
    assert (problem := delay_beside_slow_clients(without, beside)) is None, problem
    assert len(slow.cuts) >= 20, len(slow.cuts)
    for after, received in slow.cuts:
        answer = parse_answer(received)
        assert answer.status == 408 and answer.problem()["title"] == "Request Timeout"
        # The sweep runs at least once a second; a client notices at its next byte.
        assert DEADLINE - 0.5 <= after <= DEADLINE + 2, after
    assert statistics.median(after for after, _ in slow.cuts) <= DEADLINE + 1.5


def test_a_connection_that_sends_nothing_is_closed_at_the_deadline(port) -> None:
    started = time.monotonic()
    assert exchange(port, b"") == b""
    assert DEADLINE - 0.5 <= time.monotonic() - started <= DEADLINE + 2


def test_expect_100_continue_gets_one_interim_answer_then_the_final_one(port, auth, route) -> None:
    body = b'{"driver_id": "a"}'
    headers = {**auth, "Expect": "100-continue", "Content-Length": str(len(body))}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request_bytes("POST", route, b"", headers))
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert b"100 Continue" not in received
    assert parse_answer(received).status == 422


def test_pipelined_and_kept_alive_requests_are_answered_in_order(port) -> None:
    first = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: one\r\n\r\n"
    second = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: two\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(first + second[:20])
        time.sleep(0.2)
        sock.sendall(second[20:])
        received = b""
        while received.count(b"HTTP/1.1 200") < 2:
            received += sock.recv(65536)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: three\r\nConnection: close\r\n\r\n")
        while chunk := sock.recv(65536):
            received += chunk
    ids = [line.split(b": ")[1] for line in received.split(b"\r\n") if line.startswith(b"X-Request-ID")]
    assert ids == [b"one", b"two", b"three"]


def misbehave(port: int, kind: int) -> None:
    """One connection of a storm: each way a client can leave a request unfinished or a connection early."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        if kind == 1:
            sock.sendall(get[:20])  # gone in the middle of the headers
        elif kind == 2:
            sock.sendall(get + get[:25])  # a pipelined request left half sent
            sock.recv(1000)
        elif kind == 3:
            sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 200_000)
        elif kind == 4:
            sock.sendall(b"GARBAGE\r\n\r\n")
            sock.recv(1000)
        elif kind == 5:
            sock.sendall(get[:30])
            time.sleep(STORM_DEADLINE + 0.5)  # cut at the deadline
        elif kind == 6:
            sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            sock.sendall(chunked(b"x" * 300_000))
            sock.recv(1000)
        elif kind == 7:
            sock.sendall(get)
            sock.shutdown(socket.SHUT_WR)
            sock.recv(1000)
        # kind 0: connect and leave


STORM_DEADLINE = 1.0


def test_a_storm_of_misbehaving_connections_leaves_every_connection_slot_free(tmp_path) -> None:
    """The worker counts connections to stop accepting at gunicorn's ``worker_connections``; one not counted
    back (dropped, cut, closed while lingering) would shrink what the worker accepts until it takes none.
    With 24 slots, 240 misbehaving connections, then 40 requests one after the other: all answered."""
    port = free_port()
    env = {
        **offline_env(free_port()),
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "REQUEST_READ_TIMEOUT_SECONDS": str(STORM_DEADLINE),
        "GUNICORN_CMD_ARGS": "--worker-connections 24",
    }
    proc = start_gunicorn(ROOT / "dispatch-service", port=port, env=env)
    try:
        with ThreadPoolExecutor(40) as pool:
            list(pool.map(lambda kind: misbehave(port, kind), [i % 8 for i in range(240)]))
        time.sleep(STORM_DEADLINE + 2.5)  # deadlines, kept-alive connections and lingering closes all over
        statuses = [requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code for _ in range(40)]
    finally:
        stop_process(proc)
    assert statuses == [200] * 40
