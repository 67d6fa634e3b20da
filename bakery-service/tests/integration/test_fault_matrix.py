"""Every outside action of the bakery through every fault its vendor can commit, with the real clients and
wiring against local fakes over real sockets (Jira, Slack, Google Drive/Docs, GitHub over HTTP; an SMTP server).

Each fake is told to misbehave (testkit.faults): time out after acting (the effect happens, the answer comes
after the client gave up), answer 429 with Retry-After, answer a 5xx, lag its search, or refuse one payload
for good. The processor then runs as it does in production, until every action is settled. The checks ask
the fake what it received, never our own code: each effect happened exactly once (one ticket with the
batch's label, one Slack message with the action's id, one message per Message-ID in the customer's
mailbox, one document and one line in it, one invitation), or, for the refused payload, the action sits in
the dead letter, shown on /integrations with its error, and the action written after it went out at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from testkit.faults import KINDS, Faults

from ..conftest import CHOCOLATE_CAKE
from .fakes.github import FakeGithub
from .fakes.google import FakeGoogle
from .fakes.jira import FakeJira
from .fakes.slack import FakeSlack, member
from .fakes.smtp import FakeSMTP

pytestmark = pytest.mark.integration

JIRA_EMAIL, JIRA_TOKEN = "orders@bakery.example", "jira-matrix-token"
SLACK_TOKEN = "xoxb-matrix-token"
GITHUB_TOKEN, REPO = "ghp_matrixTOKEN", "bakery/automation"
CLIENT_TIMEOUT = 0.3
# Longer than the fakes' lag, as INTEGRATION_LOOKUP_LAG_SECONDS must be longer than the vendor's.
LOOKUP_LAG = 0.5
FAKE_LAG = 0.25
POISON = "Mr Poison"


@dataclass
class Vendors:
    jira: FakeJira
    slack: FakeSlack
    google: FakeGoogle
    github: FakeGithub
    smtp: FakeSMTP
    servers: list[HTTPServer] = field(default_factory=list)

    def all(self) -> list[Any]:
        return [self.jira, self.slack, self.google, self.github, self.smtp]


def _server() -> HTTPServer:
    # Threaded: a fake stalling past the client's timeout must not hold up the client's next request.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    return server


@pytest.fixture(scope="module")
def vendors() -> Iterator[Vendors]:
    servers = [_server() for _ in range(4)]
    members = [member("U0CAKE", "cakelover", real_name="Mr Cakelover"), member("U0POISON", "poison", real_name=POISON)]
    made = Vendors(
        jira=FakeJira(servers[0], email=JIRA_EMAIL, token=JIRA_TOKEN),
        slack=FakeSlack(servers[1], token=SLACK_TOKEN, members=members, page_size_cap=10),
        google=FakeGoogle(servers[2]),
        github=FakeGithub(servers[3], token=GITHUB_TOKEN, repository=REPO, accounts={"jharrot", "poisoned"}),
        smtp=FakeSMTP().start(),
        servers=servers,
    )
    yield made
    made.smtp.stop()
    for server in servers:
        server.clear_log()
        server.stop()


@dataclass
class Bakery:
    """The service with its real wiring, a baker's client and the processor."""

    deps: Any
    client: Any
    processor: Any

    def outbox(self, action_type: str) -> list[Any]:
        from jobs.outbox import Outbox

        return [r for r in Outbox(self.deps.engine, "bakery").rows() if r.type == action_type]

    def integration(self, name: str) -> dict:
        return {i["name"]: i for i in self.client.get("/integrations").get_json()["items"]}[name]

    def settle(self, ids: list[str], timeout: float = 15.0) -> None:
        from jobs.outbox import Outbox

        outbox = Outbox(self.deps.engine, "bakery")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.processor.run_once()
            if all(outbox.get(i).state in ("done", "dead") for i in ids):
                return
            time.sleep(0.05)
        raise AssertionError([(r.type, r.state, r.attempts, r.last_error) for r in outbox.rows()])


@pytest.fixture()
def bakery(make_settings, vendors: Vendors) -> Callable[..., Bakery]:
    from bakery_service import create_app
    from bakery_service.background.outbox_processor import OutboxProcessor
    from bakery_service.wiring import build_dependencies
    from servicekit import issue_token

    made: list[Any] = []

    def build(integration: str) -> Bakery:
        """Only the integration under test has credentials: the others hold their actions."""
        credentials = {
            "jira": {"jira_url": vendors.jira.url, "jira_email": JIRA_EMAIL, "jira_api_token": JIRA_TOKEN},
            "slack": {"slack_bot_token": SLACK_TOKEN},
            "email": {"smtp_host": "127.0.0.1"},
            "drive": {"google_service_account_json": vendors.google.key_json},
            "github": {"github_token": GITHUB_TOKEN},
        }[integration]
        settings = make_settings(
            **credentials,
            jira_mode="per-order",
            slack_api_url=vendors.slack.url,
            smtp_port=vendors.smtp.port,
            smtp_timeout_seconds=CLIENT_TIMEOUT,
            google_drive_orders_folder_id=vendors.google.folder_id,
            google_api_url=vendors.google.url,
            github_repository=REPO,
            github_api_url=vendors.github.url,
            github_seconds_between_writes=0.0,
            integration_timeout_seconds=CLIENT_TIMEOUT,
            integration_lookup_lag_seconds=LOOKUP_LAG,
            integration_retry_base_seconds=0.05,
            integration_retry_max_seconds=0.2,
            integration_max_attempts=4,
            integration_lease_seconds=10.0,
        )
        deps = build_dependencies(settings)
        made.append(deps)
        client = create_app(settings, deps).test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(settings, 'baker')[0]}"
        client.post("/cakes", json=CHOCOLATE_CAKE)
        return Bakery(deps, client, OutboxProcessor(deps.engine, deps.clients, settings))

    yield build
    for deps in made:
        deps.engine.dispose()


def place(bakery: Bakery, customer: str) -> int:
    order = bakery.client.post("/orders", json={"customer": customer, "recipe": "chocolate_cake", "persons": 1,
                                                "quantity": 1})  # fmt: skip
    assert order.status_code == 201, order.get_data(as_text=True)
    return order.get_json()["id"]


# --- one scenario per action: what must exist first (made fault-free), then the action itself --------------
@dataclass
class Made:
    action_id: str
    check: Callable[[], None]
    order_id: int | None = None


Trigger = Callable[[], Made]


def customer(poison: bool, kind: str) -> str:
    return f"{POISON} {time.monotonic_ns()}" if poison else f"Ms {kind} {time.monotonic_ns()}"


def jira_create_ticket(bakery: Bakery, v: Vendors, poison: bool) -> Trigger:
    def trigger() -> Made:
        order_id = place(bakery, customer(poison, "Jira"))  # per-order mode: the order's own ticket
        [row] = [r for r in bakery.outbox("jira.create_ticket") if f"/orders/{order_id}" in r.payload["description"]]

        def check() -> None:
            key = bakery.client.get(f"/orders/{order_id}").get_json()["ticket_key"]
            assert v.jira.with_label(row.payload["label"]) == [key]

        return Made(row.id, check, order_id)

    return trigger


def slack_ready_notice(bakery: Bakery, v: Vendors, poison: bool) -> Trigger:
    order_id = place(bakery, POISON if poison else "Mr Cakelover")

    def trigger() -> Made:
        bakery.client.post(f"/orders/{order_id}/ready")
        [row] = [r for r in bakery.outbox("slack.ready_notice") if r.payload["order_id"] == order_id]

        def check() -> None:
            [message] = v.slack.with_action(row.id)
            assert f"#{order_id}" in message["text"]
            assert bakery.client.get(f"/orders/{order_id}").get_json()["ready"]["state"] == "sent"

        return Made(row.id, check, order_id)

    return trigger


def slack_cancelled_notice(bakery: Bakery, v: Vendors, poison: bool) -> Trigger:
    order_id = place(bakery, POISON if poison else "Mr Cakelover")
    bakery.client.post(f"/orders/{order_id}/ready")
    [ready] = [r for r in bakery.outbox("slack.ready_notice") if r.payload["order_id"] == order_id]
    bakery.settle([ready.id])

    def trigger() -> Made:
        bakery.client.delete(f"/orders/{order_id}")
        [row] = [r for r in bakery.outbox("slack.cancelled_notice") if r.payload["order_id"] == order_id]

        def check() -> None:
            [message] = v.slack.with_action(row.id)
            assert "cancelled" in message["text"]

        return Made(row.id, check, order_id)

    return trigger


def email_ready_notice(bakery: Bakery, v: Vendors, poison: bool) -> Trigger:
    order_id = place(bakery, customer(poison, "Mail"))

    def trigger() -> Made:
        bakery.client.post(f"/orders/{order_id}/ready", headers={"X-Request-ID": f"req-ready-{order_id}"})
        [row] = [r for r in bakery.outbox("email.ready_notice") if r.payload["order_id"] == order_id]

        def check() -> None:
            [message] = v.smtp.mailbox(row.payload["to"])
            assert message["Subject"] == f"Your order #{order_id} is ready"
            assert message["Message-ID"].startswith(f"<{row.id}@")
            assert message["X-Request-ID"] == f"req-ready-{order_id}"
            assert message["Date"] and "The Bakery" in message["From"]
            # Every copy that crossed the wire is the same message to the mailbox: one Message-ID.
            assert {m["Message-ID"] for m in v.smtp.copies_to(row.payload["to"])} == {message["Message-ID"]}

        return Made(row.id, check, order_id)

    return trigger


def email_cancelled_notice(bakery: Bakery, v: Vendors, poison: bool) -> Trigger:
    order_id = place(bakery, customer(poison, "Mail"))
    bakery.client.post(f"/orders/{order_id}/ready")
    [ready] = [r for r in bakery.outbox("email.ready_notice") if r.payload["order_id"] == order_id]
    bakery.settle([ready.id])

    def trigger() -> Made:
        bakery.client.delete(f"/orders/{order_id}")
        [row] = [r for r in bakery.outbox("email.cancelled_notice") if r.payload["order_id"] == order_id]

        def check() -> None:
            cancelled = [m for m in v.smtp.mailbox(row.payload["to"]) if "cancelled" in m["Subject"]]
            assert len(cancelled) == 1 and cancelled[0]["Message-ID"].startswith(f"<{row.id}@")

        return Made(row.id, check, order_id)

    return trigger


def drive_append_line(bakery: Bakery, v: Vendors, poison: bool) -> Trigger:
    order_id = place(bakery, customer(poison, "Drive"))

    def trigger() -> Made:
        bakery.client.delete(f"/orders/{order_id}")
        [row] = [r for r in bakery.outbox("drive.append_line") if r.payload["order_id"] == order_id]

        def check() -> None:
            [document_id] = v.google.named(row.payload["customer_slug"])
            assert v.google.documents[document_id].count(row.payload["line"]) == 1

        return Made(row.id, check, order_id)

    return trigger


def github_grant(bakery: Bakery, v: Vendors, poison: bool) -> Trigger:
    login = "poisoned" if poison else "jharrot"
    v.github.collaborators.pop(login, None)
    for invitation_id in [i for i, inv in v.github.invitations.items() if inv["invitee"]["login"] == login]:
        del v.github.invitations[invitation_id]

    def trigger() -> Made:
        before = v.github.invited.count(login)
        body = {"firstName": "Jack", "lastName": "Harrot", "githubUsername": login, "permissions": {"developer": True}}
        hired = bakery.client.post("/employees", json=body)
        assert hired.status_code == 201
        [row] = [r for r in bakery.outbox("github.grant") if r.payload["username"] == login][-1:]

        def check() -> None:
            assert v.github.invited.count(login) - before == 1, "one invitation, however often it was asked for"

        return Made(row.id, check)

    return trigger


def github_revoke(bakery: Bakery, v: Vendors, poison: bool) -> Trigger:
    login = "poisoned" if poison else "jharrot"
    hired = bakery.client.post("/employees", json={"firstName": "Ann", "lastName": "Lee", "githubUsername": login,
                                                    "permissions": {"developer": True}}).get_json()  # fmt: skip
    [grant] = [r for r in bakery.outbox("github.grant") if r.payload["username"] == login][-1:]
    bakery.settle([grant.id])
    v.github.accept(login)  # a developer who accepted their invitation

    def trigger() -> Made:
        bakery.client.delete(f"/employees/{hired['id']}")
        [row] = [r for r in bakery.outbox("github.revoke") if r.payload["username"] == login][-1:]

        def check() -> None:
            assert login not in v.github.collaborators
            assert all(inv["invitee"]["login"] != login for inv in v.github.invitations.values())

        return Made(row.id, check)

    return trigger


SCENARIOS: dict[str, tuple[str, Callable[[Bakery, Vendors, bool], Trigger]]] = {
    "jira.create_ticket": ("jira", jira_create_ticket),
    "slack.ready_notice": ("slack", slack_ready_notice),
    "slack.cancelled_notice": ("slack", slack_cancelled_notice),
    "email.ready_notice": ("email", email_ready_notice),
    "email.cancelled_notice": ("email", email_cancelled_notice),
    "drive.append_line": ("drive", drive_append_line),
    "github.grant": ("github", github_grant),
    "github.revoke": ("github", github_revoke),
}


def fake_of(vendors: Vendors, integration: str) -> Any:
    return {"jira": vendors.jira, "slack": vendors.slack, "email": vendors.smtp, "drive": vendors.google,
            "github": vendors.github}[integration]  # fmt: skip


def refusal(integration: str, poisoned: dict[str, Any]) -> Callable[[Any], bool]:
    """The predicate the vendor's fake refuses a payload by: only the poison action's."""
    if integration == "jira":
        return lambda body: any(f"/orders/{i}/" in json.dumps(body) or f"/orders/{i}\"" in json.dumps(body)
                                for i in poisoned.get("orders", ()))  # fmt: skip
    if integration == "slack":
        return lambda params: POISON in str(params.get("text", ""))
    if integration == "email":
        return lambda address: "mr_poison" in str(address)
    if integration == "drive":
        return lambda body: any(f"Order {i} " in json.dumps(body) for i in poisoned.get("orders", ()))
    return lambda payload: payload.get("login") == "poisoned"


@pytest.mark.parametrize("fault", KINDS)
@pytest.mark.parametrize("action", list(SCENARIOS))
def test_every_action_through_every_fault_happens_once_or_is_in_the_dead_letter(
    bakery, vendors: Vendors, action: str, fault: str
) -> None:
    integration, scenario = SCENARIOS[action]
    service = bakery(integration)
    fake = fake_of(vendors, integration)
    poisoned: dict[str, Any] = {}
    # What must exist first is made before the vendor misbehaves; in the refusal case, for the poison
    # action first in line and a healthy one of the same kind right behind it.
    triggers = [
        scenario(service, vendors, poison) for poison in ([True, False] if fault == "refuse_payload" else [False])
    ]
    # Past the client's timeout (Jira's and GitHub's clients count whole seconds: at least one).
    timeout = 1.0 if integration in ("jira", "github") else CLIENT_TIMEOUT
    fake.faults = Faults.of(
        fault,
        refuse=refusal(integration, poisoned),
        stall_seconds=timeout + 0.1,
        index_lag=FAKE_LAG,
    )
    if fault == "timeout_after_acting":
        # As with the real Jira, the search lags longer than the client waited: the retry must not trust a
        # first empty answer (the lag stays within what INTEGRATION_LOOKUP_LAG_SECONDS allows for).
        fake.faults.index_lag = timeout + 0.3
    try:
        made = [trigger() for trigger in triggers]
        poisoned["orders"] = {made[0].order_id} if fault == "refuse_payload" else set()
        started = time.monotonic()
        service.settle([m.action_id for m in made])
        took = time.monotonic() - started
    finally:
        fake.faults = Faults()

    healthy = made[-1]
    healthy.check()
    [row] = [r for r in service.outbox(action) if r.id == healthy.action_id]
    assert row.state == "done", (row.state, row.last_error)
    if fault == "refuse_payload":
        poison = made[0]
        [dead] = [r for r in service.outbox(action) if r.id == poison.action_id]
        assert dead.state == "dead" and dead.last_error
        shown = service.integration(integration)
        assert poison.action_id in {d["id"] for d in shown["dead_letters"]}, shown
        assert [d["error"] for d in shown["dead_letters"] if d["id"] == poison.action_id] == [dead.last_error]
        assert took < 3.0, f"the action behind the poison one waited {took:.1f}s"


@pytest.mark.parametrize("action", ["jira.create_ticket", "slack.ready_notice"])
def test_a_call_that_fails_long_after_its_timeout_is_looked_for_from_when_it_ended(
    bakery, vendors: Vendors, action: str
) -> None:
    """The vendor acts, then its 503 trickles in a byte at a time for 2 s, each byte within the client's
    timeout: the call ends some 2 s after it began, though the client's timeout is 0.3 s (Jira's: 1 s), as a
    busy worker's call does. The vendor's search shows the effect 0.2 s after that end, within
    INTEGRATION_LOOKUP_LAG_SECONDS of it. The retry looks until the lag has passed since the call ended and
    finds the effect: made once. Counting the lag from the call's start plus the timeout, the retry looked
    at about 2.1 s, found nothing, and made it twice."""
    integration, scenario = SCENARIOS[action]
    service = bakery(integration)
    fake = fake_of(vendors, integration)
    trigger = scenario(service, vendors, False)
    slow = 2.0
    faults = fake.faults = Faults(slow_failures_after_acting=1, slow_seconds=slow, index_lag=slow + 0.2)
    try:
        made = trigger()
        service.settle([made.action_id])
    finally:
        fake.faults = Faults()
    assert faults.counts == {"slow_failures_after_acting": 1}
    made.check()
    [row] = [r for r in service.outbox(action) if r.id == made.action_id]
    assert row.state == "done" and row.attempts >= 2, (row.state, row.attempts, row.last_error)
    assert row.ended_at is not None and (row.ended_at - row.started_at).total_seconds() >= slow


def test_a_duplicate_made_when_the_search_lags_beyond_the_window_is_flagged_and_linked(
    bakery, vendors: Vendors
) -> None:
    """The rare case: Jira's index lags longer than INTEGRATION_LOOKUP_LAG_SECONDS after a create that timed out
    having acted. A second ticket is made; it is then labelled bakery-duplicate and linked to the first, and
    the orders keep the first's key: a person sees one order and its flagged double, never two orders."""
    service = bakery("jira")
    vendors.jira.faults = Faults(timeouts_after_acting=1, stall_seconds=1.3, index_lag=LOOKUP_LAG * 4)
    try:
        order_id = place(service, "Mr Cakelover")
        [row] = [r for r in service.outbox("jira.create_ticket") if f"/orders/{order_id}" in r.payload["description"]]
        service.settle([row.id])
        tickets = vendors.jira.with_label(row.payload["label"])
        assert len(tickets) == 2
        [flag] = service.outbox("jira.flag_duplicates")
        time.sleep(LOOKUP_LAG * 4)  # the index has caught up by the time the flag action runs
        service.settle([flag.id])
    finally:
        vendors.jira.faults = Faults()
    kept = service.client.get(f"/orders/{order_id}").get_json()["ticket_key"]
    [double] = [key for key in tickets if key != kept]
    assert "bakery-duplicate" in vendors.jira.issues[double]["fields"]["labels"]
    assert "bakery-duplicate" not in vendors.jira.issues[kept]["fields"]["labels"]
    assert {"type": "Duplicate", "inward": double, "outward": kept} in vendors.jira.links
    [flagged] = [r for r in service.outbox("jira.flag_duplicates") if r.id == flag.id]
    assert flagged.result == {"original": kept, "duplicates": [double]}


def test_processors_racing_on_leases_shorter_than_a_call_make_each_ticket_once(bakery, vendors: Vendors) -> None:
    """The worst interleaving: four processors, a lease (0.4 s) shorter than a call, every create timing out
    after Jira made the ticket, Jira's search lagging. Workers take each other's actions mid-call; every
    ticket still exists once, and every order carries the one ticket of its label."""
    import threading

    service = bakery("jira")
    settings = service.deps.settings.model_copy(update={"integration_lease_seconds": 0.4})
    from bakery_service.background.outbox_processor import OutboxProcessor

    orders = [place(service, f"Ms Race {n}") for n in range(8)]
    rows = [r for r in service.outbox("jira.create_ticket")]
    vendors.jira.faults = Faults(timeouts_after_acting=len(orders), stall_seconds=1.1, index_lag=1.3)
    stop = threading.Event()

    def work() -> None:
        processor = OutboxProcessor(service.deps.engine, service.deps.clients, settings)
        while not stop.is_set():
            processor.run_once()
            time.sleep(0.02)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        service.processor = OutboxProcessor(service.deps.engine, service.deps.clients, settings)
        service.settle([r.id for r in rows], timeout=30)
    finally:
        stop.set()
        for worker in workers:
            worker.join(10)
        vendors.jira.faults = Faults()
    for row, order_id in zip(rows, orders, strict=True):
        [key] = vendors.jira.with_label(row.payload["label"])
        assert service.client.get(f"/orders/{order_id}").get_json()["ticket_key"] == key
    assert all(r.state == "done" for r in service.outbox("jira.create_ticket"))
    assert service.outbox("jira.flag_duplicates") == [], "no second ticket was ever made"
