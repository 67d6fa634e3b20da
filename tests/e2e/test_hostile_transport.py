"""R13 on every server of the local stack (the six services and loadboard-sim), over raw sockets: requests
without Host, refusals gunicorn writes itself, chunked and compressed bodies past the limit, duplicate keys
and JSON that is not UTF-8, twenty slow clients per server at once, and Postgres's log after a unique
violation. Each test gathers every server's deviations and fails on any, so one run shows them all.

Failed on the tree before servicekit's worker, servicekit.bodies and the terse Postgres log (each probe was
run there): every no-Host request was 200, gunicorn's refusals were HTML, chunked bodies past the limit were
parsed (201) or "Malformed JSON", gzip was not decoded, duplicate keys were stored, loadboard-sim read 50 MB
bodies whole, slow clients held every thread, and Postgres logged the duplicated licence number.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from e2e_support import FLEET
from suite_support import SERVICES
from transport_probes import (
    MiB,
    SlowClients,
    body_operation,
    delay_beside_slow_clients,
    exchange,
    latencies_ms,
    parse_answer,
    post,
    request_bytes,
    valid_then_padding,
)

pytestmark = pytest.mark.integration
SERVERS = {**SERVICES, "loadboard-sim": 8010}
DEADLINE = 10.0  # REQUEST_READ_TIMEOUT_SECONDS's default, which the local stack keeps
SIM_LOGIN = "/landstar/Account/Login"


def json_routes(token: str) -> dict[str, tuple[int, str, dict[str, str]]]:
    """Each server's route that reads a JSON body: (port, path, headers). automation-service and
    audit-worker read no body on any route; they are probed on a route that takes none."""
    routes = {}
    for name, port in SERVERS.items():
        operation = body_operation(f"http://127.0.0.1:{port}")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        if operation is not None:
            routes[name] = (port, operation[1], headers)
    assert set(routes) == set(SERVERS) - {"automation-service", "audit-worker"}, routes
    return routes


def check(deviations: list[str], where: str, answer, status: int) -> None:
    try:
        assert answer.status == status, f"{answer.status}: {answer.raw[:200]!r}"
        answer.problem()
    except AssertionError as exc:
        deviations.append(f"{where}: wanted {status} problem+json; {exc}")


def test_no_host_and_gunicorns_own_refusals_are_problem_json_on_every_server(stack) -> None:
    deviations: list[str] = []
    probes = {
        "no Host": (request_bytes("GET", "/healthz", host=None), 400),
        "two Hosts": (b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        "xchunked": (b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", 501),
        "request line": (b"GARBAGE\r\n\r\n", 400),
        "long line": (b"GET /healthz?" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        "big header": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    }
    for name, port in SERVERS.items():
        for probe, (raw, status) in probes.items():
            check(deviations, f"{name} {probe}", parse_answer(exchange(port, raw)), status)
        with_host = parse_answer(exchange(port, request_bytes("GET", "/healthz")))
        if with_host.status != 200:
            deviations.append(f"{name}: GET /healthz with a Host answered {with_host.status}")
    assert not deviations, "\n".join(deviations)


@pytest.mark.parametrize(
    "total, framing",
    [(MiB + 100, "chunked"), (50 * MiB, "chunked"), (50 * MiB, "gzip")],
    ids=["chunked-1MiB+100", "chunked-50MB", "gzip-50MB-unpacked"],
)
def test_a_body_past_the_limit_is_413_on_every_server_however_framed(stack, token, total, framing) -> None:
    deviations: list[str] = []
    body = valid_then_padding({"name": "x", "licenseNumber": "y"}, total)
    for name, (port, path, headers) in json_routes(token).items():
        check(deviations, f"{name} POST {path}", post(port, path, body, headers, framing=framing), 413)
    form = valid_then_padding({}, total).replace(b"{}", b"UserName=a&Password=b")
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    sim_form = post(SERVERS["loadboard-sim"], SIM_LOGIN, form, form_type, framing=framing)
    check(deviations, f"loadboard-sim POST {SIM_LOGIN}", sim_form, 413)
    for name in ("automation-service", "audit-worker"):
        # No route of theirs reads a body: the one sent is refused with the route, and never read.
        started = time.monotonic()
        answer = post(SERVERS[name], "/healthz", body, {"Content-Type": "application/json"}, framing=framing)
        check(deviations, f"{name} POST /healthz", answer, 405)
        if time.monotonic() - started > 5:
            deviations.append(f"{name}: the unread body held the connection {time.monotonic() - started:.1f}s")
    assert not deviations, "\n".join(deviations)


@pytest.mark.parametrize(
    "raw, status",
    [
        (b'{"portal": "jbhunt", "fault": "slow", "portal": "landstar", "name": "a", "name": "b"}', 400),
        ('{"portal": "jbhunt", "name": "a"}'.encode("utf-16"), 415),
        ('{"portal": "jbhunt", "name": "a"}'.encode("utf-16-le"), 415),
        ('{"portal": "jbhunt", "name": "a"}'.encode("utf-8-sig"), 415),
    ],
    ids=["duplicate-key", "utf-16", "utf-16-le-no-bom", "utf-8-bom"],
)
def test_duplicate_keys_and_json_that_is_not_utf8_are_refused_on_every_server(stack, token, raw, status) -> None:
    deviations: list[str] = []
    for name, (port, path, headers) in json_routes(token).items():
        for framing in ("length", "chunked", "gzip"):
            answer = post(port, path, raw, headers, framing=framing)
            check(deviations, f"{name} POST {path} ({framing})", answer, status)
    assert not deviations, "\n".join(deviations)


def test_twenty_slow_clients_on_every_server_delay_no_one_and_are_cut_with_408(stack) -> None:
    deviations: list[str] = []

    def measure_every_server() -> dict[str, list[float]]:
        with ThreadPoolExecutor(len(SERVERS)) as pool:
            urls = [f"http://127.0.0.1:{port}/healthz" for port in SERVERS.values()]
            return dict(zip(SERVERS, pool.map(lambda url: latencies_ms(url, count=20), urls), strict=True))

    without = measure_every_server()
    slow = {name: SlowClients(port, count=20) for name, port in SERVERS.items()}
    for clients in slow.values():
        clients.__enter__()
    try:
        beside = measure_every_server()
        time.sleep(DEADLINE + 2)
    finally:
        for clients in slow.values():
            clients.__exit__(None, None, None)
    for name, times in beside.items():
        # 140 slow connections and seven servers on two shared cores.
        if problem := delay_beside_slow_clients(without[name], times):
            deviations.append(f"{name}: 20 slow clients: {problem}")
        cuts = slow[name].cuts
        if len(cuts) < 20:
            deviations.append(f"{name}: {len(cuts)} of 20 slow clients cut within {DEADLINE + 2:.0f}s")
        for after, received in cuts:
            try:
                answer = parse_answer(received)
                assert answer.status == 408 and answer.problem()
                assert after <= DEADLINE + 2.5, f"cut after {after:.1f}s"
            except AssertionError as exc:
                deviations.append(f"{name}: a slow client: {exc}")
                break
    assert not deviations, "\n".join(deviations)


def test_postgres_logs_the_constraint_not_the_duplicated_value(stack, http) -> None:
    licence = f"LIC-{uuid.uuid4().hex[:12]}"
    body = {"name": "Dup Licence", "licenseNumber": licence}
    assert http.post(f"{FLEET}/drivers", json=body, timeout=10).status_code == 201
    assert http.post(f"{FLEET}/drivers", json=body, timeout=10).status_code == 409
    log = stack.state_dir / "logs" / "processes" / "postgres.log"
    deadline = time.monotonic() + 10
    while "drivers_license_number_key" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)
    text = log.read_text(errors="replace")
    assert "drivers_license_number_key" in text  # the violation is logged, by its constraint
    assert licence not in text and "DETAIL:" not in text


def test_readyz_names_no_path_and_no_key_on_any_server(stack) -> None:
    import requests

    for name, port in SERVERS.items():
        answer = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        text = answer.text
        assert answer.status_code == 200 and json.loads(text)["status"] == "ready", (name, text)
        for word in ("/", "KEY", "_PATH", "configured", "note"):
            assert word not in text, (name, word, text)
