"""Addresses of the local stack and the small helpers its end-to-end tests share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import requests
from stack_harness import login  # noqa: F401  # the e2e tests' login, recorded for the log check
from suite_support import ROOT

PYTHON = str(ROOT / ".venv/bin/python")
DISPATCH = "http://127.0.0.1:8000"
FLEET = "http://127.0.0.1:8001"
GPT = "http://127.0.0.1:8002"
AUTOMATION = "http://127.0.0.1:8003"
BAKERY = "http://127.0.0.1:8004"
AUDIT = "http://127.0.0.1:8005"
INBOX = "http://127.0.0.1:8025"
AWS = "http://127.0.0.1:4566"
DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/suite"
T = TypeVar("T")


def eventually(probe: Callable[[], T], done: Callable[[T], bool], timeout: float, what: str) -> T:
    """Probe until `done` holds or the time is up; the last value is in the failure message."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout:.0f}s; last: {value!r}"[:3000])
        time.sleep(0.5)
        value = probe()
    return value


def audit_types(http: requests.Session, load_id: str) -> list[str]:
    answer = http.get(f"{AUDIT}/audit-events", params={"loadId": load_id}, timeout=10)
    assert answer.status_code == 200, answer.text
    return sorted(item["type"] for item in answer.json()["items"])


def inbox_to(address: str) -> list[dict]:
    messages = requests.get(f"{INBOX}/api/email", timeout=5).json()
    return [m for m in messages if any(to["address"] == address for to in m.get("to", []))]


def new_driver_and_load(http: requests.Session, tag: str) -> tuple[str, str]:
    driver = http.post(f"{FLEET}/drivers", json={"name": f"Driver {tag}", "licenseNumber": f"E2E-{tag}"}, timeout=10)
    load = http.post(f"{FLEET}/loads", json={"origin": "Austin, TX", "destination": tag, "cargoType": "c"}, timeout=10)
    assert driver.status_code == 201 and load.status_code == 201, (driver.text, load.text)
    return driver.json()["id"], load.json()["id"]
