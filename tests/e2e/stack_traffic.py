"""Traffic against the running local stack, and the check that every write it was answered for is still there.

Three clients work side by side, as users would, each writing through one service: fleet (a driver, a load,
the assignment, some completed), bakery (an order, marked ready: an e-mail) and dispatch (a day's lists, its
assignment, a delivery status). A write counts once the service answered 2xx; a call that got no answer (or a
5xx) is in doubt and is neither counted nor retried, so that the check never depends on whether it landed.
`Traffic.check` then finds every counted write in its store: fleet's assignments and loads (Postgres), the
audit trail of each (Redis Streams, the relay, audit-worker), bakery's orders and their ready notices (Postgres,
the outbox, MailDev's inbox), dispatch's manifests, assignments and statuses (the AWS twin).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests
from e2e_support import AUDIT, BAKERY, DISPATCH, FLEET, INBOX, login

PACE = 0.3  # seconds between two pieces of work of one client: traffic, not a load test


@dataclass
class Written:
    assignments: dict[str, str] = field(default_factory=dict)  # fleet assignment id -> its load id
    completed: set[str] = field(default_factory=set)  # fleet assignment ids completed
    orders: dict[str, str] = field(default_factory=dict)  # bakery order id -> the customer's address
    ready: set[str] = field(default_factory=set)  # bakery order ids marked ready
    manifests: dict[str, dict] = field(default_factory=dict)  # dispatch day -> the lists uploaded
    dispatched: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # day -> (driver, package) pairs
    statuses: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (day, driver, package) -> status
    in_doubt: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Traffic:
    def __init__(self) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self._login()}"
        self.written = Written()
        self.tag = uuid.uuid4().hex[:8]
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[str] = []
        self.recipe = self._cake()

    @staticmethod
    def _login() -> str:
        deadline = time.monotonic() + 60
        while True:
            try:
                return login()
            except (requests.RequestException, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def answered(self) -> int:
        """Writes answered so far, every client's together."""
        w = self.written
        return (
            len(w.assignments) + len(w.completed) + len(w.orders) + len(w.ready) + len(w.dispatched) + len(w.statuses)
        )

    # --- the clients ---------------------------------------------------------------------------------------

    def start(self) -> Traffic:
        for work in (self._fleet, self._bakery, self._dispatch):
            thread = threading.Thread(target=self._repeat, args=(work,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)
        assert not self.errors, self.errors

    def _repeat(self, work) -> None:
        number = 0
        while not self.stopping.is_set():
            number += 1
            try:
                work(number)
            except (requests.RequestException, Unanswered):
                with self.written.lock:
                    self.written.in_doubt += 1
            except Exception as exc:  # noqa: BLE001  # an answer no client should get: the test fails on it
                self.errors.append(f"{work.__name__}: {exc!r}")
                return
            self.stopping.wait(PACE)

    def _send(self, method: str, url: str, expected: int, **kwargs) -> dict:
        answer = self.session.request(method, url, timeout=20, **kwargs)
        if answer.status_code != expected:
            if answer.status_code >= 500:
                raise Unanswered(f"{method} {url}: {answer.status_code}")
            raise AssertionError(f"{method} {url} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()

    def _fleet(self, number: int) -> None:
        name = f"{self.tag}-{number}"
        driver = self._send("POST", f"{FLEET}/drivers", 201, json={"name": f"K {name}", "licenseNumber": f"K-{name}"})
        load = self._send(
            "POST", f"{FLEET}/loads", 201, json={"origin": "Austin, TX", "destination": name, "cargoType": "c"}
        )
        assignment = self._send(
            "POST", f"{FLEET}/assignments", 201, json={"driverId": driver["id"], "loadId": load["id"]}
        )
        with self.written.lock:
            self.written.assignments[assignment["id"]] = load["id"]
        if number % 3 == 0:
            self._send("PATCH", f"{FLEET}/assignments/{assignment['id']}/status", 200, json={"status": "COMPLETED"})
            with self.written.lock:
                self.written.completed.add(assignment["id"])

    def _cake(self) -> str:
        deadline = time.monotonic() + 60
        name = f"Kill Cake {uuid.uuid4().hex[:6]}"
        while True:
            try:
                made = self._send("POST", f"{BAKERY}/cakes", 201, json={"name": name, "ingredients": {"flour": 100}})
                return made["id"]
            except (requests.RequestException, Unanswered):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _bakery(self, number: int) -> None:
        customer = f"Ms Kill {self.tag} {number}"
        order = self._send(
            "POST",
            f"{BAKERY}/orders",
            201,
            json={"customer": customer, "recipe": self.recipe, "persons": 1, "quantity": 1},
        )
        with self.written.lock:
            self.written.orders[order["id"]] = customer.lower().replace(" ", "_") + "@gmail.com"
        self._send("POST", f"{BAKERY}/orders/{order['id']}/ready", 200)
        with self.written.lock:
            self.written.ready.add(order["id"])

    def _dispatch(self, number: int) -> None:
        day = (dt.date(2095, 1, 1) + dt.timedelta(days=number)).isoformat()
        drivers = [f"k_{self.tag}_{i}" for i in range(3)]
        lists = {
            "drivers": [{"driver_id": d, "rules": {"max_weight": 100}} for d in drivers],
            "packages": [
                {
                    "package_id": str(uuid.uuid4()),
                    "weight": 10,
                    "volume": 5,
                    "region": "north",
                    "distance": 3 + i,
                    "perishable": False,
                    "hazmat_class": None,
                    "destination": f"{i} Main St",
                }
                for i in range(8)
            ],
        }
        self._send("POST", f"{DISPATCH}/days/{day}/manifest", 201, json=lists)
        with self.written.lock:
            self.written.manifests[day] = lists
        request = {"driver_ids": drivers, "max_per_driver": 2, "date": day}
        assigned = self._send("POST", f"{DISPATCH}/assign", 200, json=request, headers={"Idempotency-Key": day})
        pairs = {(d, p) for d, packages in assigned["assignments"].items() for p in packages}
        with self.written.lock:
            self.written.dispatched[day] = pairs
        driver, package = sorted(pairs)[0]
        update = {"driver_id": driver, "package_id": package, "status": "in_progress"}
        self._send("POST", f"{DISPATCH}/update", 200, json=update)
        with self.written.lock:
            self.written.statuses[(day, driver, package)] = "in_progress"

    # --- the check -----------------------------------------------------------------------------------------

    def check(self, timeout: float = 120) -> None:
        """Every write answered is in its store; the audit trail and the ready notices, which follow
        asynchronously, within `timeout`."""
        self.check_fleet()
        self.check_bakery_orders()
        self.check_dispatch()
        self.check_audit_trail(timeout)
        self.check_ready_notices(timeout)

    def _get(self, url: str, **params) -> requests.Response:
        answer = self.session.get(url, params=params, timeout=20)
        assert answer.status_code == 200, (url, params, answer.status_code, answer.text[:500])
        return answer

    def check_fleet(self) -> None:
        for assignment_id, load_id in list(self.written.assignments.items()):
            got = self._get(f"{FLEET}/assignments/{assignment_id}").json()
            expected = "COMPLETED" if assignment_id in self.written.completed else "ASSIGNED"
            assert got["status"] == expected and got["load"]["id"] == load_id, got

    def check_bakery_orders(self) -> None:
        for order_id in list(self.written.orders):
            got = self._get(f"{BAKERY}/orders/{order_id}").json()
            assert got["state"] in (("ready",) if order_id in self.written.ready else ("placed", "ready")), got

    def check_dispatch(self) -> None:
        for day, lists in list(self.written.manifests.items()):
            stored = self._get(f"{DISPATCH}/days/{day}/manifest").json()  # as validated: defaults in, nulls out
            assert ids(stored) == ids(lists), day
        for day, pairs in list(self.written.dispatched.items()):
            held = {
                (driver, item["package_id"]): item["status"]
                for driver in {d for d, _ in pairs}
                for item in assignments_of(self.session, driver, day)
            }
            assert set(held) == pairs, (day, held, pairs)
            for (status_day, driver, package), status in self.written.statuses.items():
                if status_day == day:
                    assert held[(driver, package)] == status, (day, driver, package, held)

    def check_audit_trail(self, timeout: float) -> None:
        def trail(load_id: str) -> list[str]:
            return sorted(i["type"] for i in self._get(f"{AUDIT}/audit-events", loadId=load_id).json()["items"])

        expected = {
            load_id: ["load.assigned", "load.completed"]
            if assignment_id in self.written.completed
            else ["load.assigned"]
            for assignment_id, load_id in self.written.assignments.items()
        }
        deadline = time.monotonic() + timeout
        missing = dict(expected)
        while missing and time.monotonic() < deadline:
            missing = {load: types for load, types in missing.items() if trail(load) != types}
            if missing:
                time.sleep(1)
        time.sleep(1)  # a late duplicate would show now
        wrong = {load: trail(load) for load, types in expected.items() if trail(load) != types}
        assert not wrong, f"{len(wrong)} of {len(expected)} loads with another audit trail than expected: {wrong}"

    def check_ready_notices(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = set(self.written.ready)
        while waiting and time.monotonic() < deadline:
            waiting = {o for o in waiting if self._get(f"{BAKERY}/orders/{o}").json()["ready"]["state"] != "sent"}
            if waiting:
                # The processor retries on its own backoff; replay makes what failed while MailDev was down due.
                self.session.post(f"{BAKERY}/integrations/email/replay", timeout=10)
                time.sleep(1)
        assert not waiting, f"ready notices never sent: {waiting}"
        inbox = requests.get(f"{INBOX}/api/email", timeout=10).json()
        received = {to["address"] for message in inbox for to in message.get("to", [])}
        lost = {self.written.orders[o] for o in self.written.ready} - received
        assert not lost, f"e-mails sent but not in the inbox: {lost}"


def assignments_of(session: requests.Session, driver: str, day: str) -> list[dict]:
    """Every page of GET /assignments for one driver and day (a page may hold fewer than its limit)."""
    items, cursor = [], None
    while True:
        params = {"driver_id": driver, "date": day, "limit": 1000, **({"cursor": cursor} if cursor else {})}
        answer = session.get(f"{DISPATCH}/assignments", params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        items += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if not cursor:
            return items


def ids(lists: dict) -> tuple[list[str], list[str]]:
    return [d["driver_id"] for d in lists["drivers"]], [p["package_id"] for p in lists["packages"]]


class Unanswered(Exception):
    """The service could not answer (5xx while something it needs restarts): the write is in doubt."""
