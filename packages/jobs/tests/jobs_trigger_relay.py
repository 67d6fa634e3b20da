"""A Python stand-in for the Trigger.dev relay task (packages/jobs/trigger/src/relay.ts and
src/trigger/deliver.ts), run by jobs_fake_trigger.FakeTriggerDev in place of the deployed task: the same
request (JSON body as JSON.stringify writes it, X-Job-Id, X-Job-Attempt, X-Job-Attr-<Key>, X-Jobs-Signature
over the type, id, attributes and body),
the same outcome (a non-2xx answer fails the attempt; 422 and 489 abort the run). test_trigger_relay_ts.py
runs the TypeScript itself against the push endpoint, so that the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from jobs import relay_signature
from jobs_fake_trigger import AbortRun, Executor

PERMANENT_STATUSES = {422, 489}


class PushFailed(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(f"push answered HTTP {status}: {detail}")
        self.status = status
        self.permanent = status in PERMANENT_STATUSES


def push_url(job: dict[str, Any], push_base_url: str | None = None) -> str:
    if push_base_url:
        return f"{push_base_url.rstrip('/')}/jobs/{job['type']}"
    return job["url"]


def relay(job: dict[str, Any], *, secret: str, attempt: int, push_base_url: str | None = None) -> int:
    body = json.dumps(job["payload"], separators=(",", ":"), ensure_ascii=False).encode()
    attributes = job.get("attributes") or {}
    headers = {
        "Content-Type": "application/json",
        "X-Job-Id": job["id"],
        "X-Job-Attempt": str(attempt),
        relay_signature.SIGNATURE_HEADER: relay_signature.sign(secret, job["type"], job["id"], body, attributes),
        **relay_signature.attribute_headers(attributes),
    }
    response = requests.post(push_url(job, push_base_url), data=body, headers=headers, timeout=60)
    if response.ok:
        return response.status_code
    raise PushFailed(response.status_code, response.text[:500])


def relay_executor(secret: str, push_base_url: str | None = None) -> Executor:
    """The task's run function: relay, and abort the run on a permanent refusal."""

    def run(job: Any, attempt: int) -> None:
        try:
            relay(job, secret=secret, attempt=attempt, push_base_url=push_base_url)
        except PushFailed as exc:
            if exc.permanent:
                raise AbortRun(str(exc)) from exc
            raise

    return run
