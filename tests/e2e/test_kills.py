"""The local stack survives its processes dying, and keeps its data across `make down` / `make up`.

Every supervised process (Postgres, Redis, the AWS twin, MailDev, Prometheus, each service, the fleet relay,
loadboard-sim, and whatever else supervisord runs) is killed with SIGKILL in turn while clients write through
fleet-api, bakery-service and dispatch-service; each must be back within 30 s (R10), and every write answered
before and around each kill is in its store afterwards (stack_traffic.py). The AWS twin is also killed in the
middle of `make demo` and again after it, and then the whole stack is stopped and started again, without losing
one of the day's dispatch assignments, statuses or lists.

What each process keeps: Postgres the services' tables and the audit trail; Redis the event streams and their
consumer groups (an fsync'd append-only file); the AWS twin dispatch's DynamoDB table and S3 bucket (its journal
and snapshot); MailDev its inbox: every message it accepted, written to .local/maildev before it answers SMTP;
Prometheus the samples it scraped (its TSDB's write-ahead log). The services, the relay and loadboard-sim keep
nothing of their own: their data is in those stores.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time

import pytest
import requests
from e2e_support import DISPATCH, login
from stack_traffic import Traffic, assignments_of
from suite_support import ROOT

pytestmark = pytest.mark.integration
BACK_WITHIN = 30  # seconds (TARGETS.md, R10)


# --- what each kind of process keeps, looked at just before its kill and once it is back -------------------------


def scraped_samples(at: float) -> float:
    """How many samples Prometheus holds for the minute before `at`, every target's `up` together."""
    answer = requests.get(
        "http://127.0.0.1:9090/api/v1/query", params={"query": "sum(count_over_time(up[1m]))", "time": at}, timeout=10
    ).json()
    return float(answer["data"]["result"][0]["value"][1]) if answer["data"]["result"] else 0.0


def inbox_ids() -> set[str]:
    return {message["id"] for message in requests.get("http://127.0.0.1:8025/api/email", timeout=10).json()}


class Kept:
    """Evidence of one process's own data, taken before its kill and compared once it is back."""

    def __init__(self, name: str, traffic: Traffic):
        self.name = name.split(":")[-1]
        self.traffic = traffic
        # Older than any scrape still in flight (5 s apart, 5 s at most each): what is counted now is all there is.
        self.at = time.time() - 12
        if self.name == "prometheus":
            self.samples = scraped_samples(self.at)
            assert self.samples > 0
        elif self.name == "maildev":
            deadline = time.monotonic() + 60
            self.messages = inbox_ids()
            while not self.messages and time.monotonic() < deadline:  # the first ready notices on their way
                time.sleep(1)
                self.messages = inbox_ids()
            assert self.messages

    def check(self) -> None:
        if self.name == "prometheus":
            assert scraped_samples(self.at) == self.samples, "samples scraped before the kill are gone"
        elif self.name == "maildev":
            lost = self.messages - inbox_ids()
            assert not lost, f"{len(lost)} of {len(self.messages)} e-mails gone from the inbox"
        elif self.name == "aws":
            self.traffic.check_dispatch()
        elif self.name == "postgres":
            self.traffic.check_fleet()
            self.traffic.check_bakery_orders()


@pytest.mark.timeout(1200)
def test_every_process_killed_mid_traffic_comes_back_within_30_s_with_its_data(stack) -> None:
    traffic = Traffic().start()
    recovery: dict[str, float] = {}
    victims = stack.names()
    try:
        for name in victims:
            # Writes of every client answered since the last kill, then the kill in the middle of more.
            answered = traffic.answered() + 3
            deadline = time.monotonic() + 120
            while traffic.answered() < answered and time.monotonic() < deadline:
                time.sleep(0.2)
            kept = Kept(name, traffic)
            old = stack.pid(name)
            os.kill(old, signal.SIGKILL)
            recovery[name] = stack.wait_back(name, old)
            kept.check()
            print(f"{name} back and ready in {recovery[name]:.1f}s; writes answered so far: {traffic.answered()}")
    finally:
        traffic.stop()
    print("seconds until back and the stack ready:", {k: round(v, 1) for k, v in recovery.items()})
    print(f"writes answered: {traffic.answered()}, in doubt: {traffic.written.in_doubt}")
    assert {"infra:postgres", "infra:redis", "infra:aws", "services:fleet-relay"} <= set(victims), victims
    traffic.check()
    slow = {name: round(seconds, 1) for name, seconds in recovery.items() if seconds > BACK_WITHIN}
    assert not slow, f"back after more than {BACK_WITHIN}s: {slow}"


# --- the AWS twin: during make demo, and make down / make up ------------------------------------------------------


def dispatch_day(session: requests.Session, day: str, drivers: list[str]) -> dict:
    """What dispatch-service holds for a day: its lists, and each driver's assignments with their statuses."""
    manifest = session.get(f"{DISPATCH}/days/{day}/manifest", timeout=30)
    assert manifest.status_code == 200, manifest.text
    held = {
        driver: sorted((i["package_id"], i["status"]) for i in assignments_of(session, driver, day))
        for driver in drivers
    }
    return {"manifest": manifest.json(), "assignments": held}


def kill_aws(stack) -> float:
    old = stack.pid("infra:aws")
    os.kill(old, signal.SIGKILL)
    return stack.wait_back("infra:aws", old)


@pytest.mark.timeout(900)
def test_yesterdays_dispatch_day_outlives_twin_kills_during_and_after_make_demo_and_make_down_make_up(stack) -> None:
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    demo = subprocess.Popen(
        ["bash", "scripts/test_endpoints.sh"],
        cwd=ROOT,
        env={**os.environ, "DISPATCH_DATE": yesterday},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    output = []
    killed_during = None
    for line in demo.stdout:
        output.append(line)
        if killed_during is None and line.startswith("== 17."):
            # The demo is about to assign the day's packages: the twin dies under it, as a crash would.
            killed_during = kill_aws(stack)
    assert demo.wait(timeout=300) == 0, "".join(output)[-4000:]
    assert killed_during is not None, "".join(output)[-2000:]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {login()}"
    day = dispatch_day(session, yesterday, ["driver_1", "driver_2"])
    statuses = [status for held in day["assignments"].values() for _, status in held]
    assert "in_progress" in statuses and len(statuses) >= 2, day  # the demo's assignments and its /update

    after_kill = kill_aws(stack)
    assert dispatch_day(session, yesterday, ["driver_1", "driver_2"]) == day

    started = time.monotonic()
    stack.down_and_up(up_timeout=240)
    print(
        f"AWS twin back in {killed_during:.1f}s (killed during the demo) and {after_kill:.1f}s (after it); "
        f"make down and make up took {time.monotonic() - started:.0f}s"
    )
    session.headers["Authorization"] = f"Bearer {login()}"
    assert dispatch_day(session, yesterday, ["driver_1", "driver_2"]) == day
