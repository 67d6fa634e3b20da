"""A tiny application for the worker tests: `python -m jobs.worker --app jobs_sample_app:register`.

Its handler records each start and finish in Redis (SAMPLE_REDIS_URL, SAMPLE_KEY), so that a test in
another process can see what ran, where and on which attempt; it fails the first `fail_attempts` attempts.
"""

from __future__ import annotations

import os
import time

import redis
from jobs import JobContext, JobRegistry
from pydantic import BaseModel


class Work(BaseModel):
    sleep: float = 0.0
    fail_attempts: int = 0  # the first N attempts raise, so that tests see retries


def register(registry: JobRegistry) -> None:
    client = redis.Redis.from_url(os.environ["SAMPLE_REDIS_URL"], decode_responses=True)
    key = os.environ["SAMPLE_KEY"]

    def work(payload: Work, ctx: JobContext) -> None:
        client.rpush(f"{key}:started", f"{ctx.id}:{ctx.attempt}:{os.getpid()}")
        if ctx.attempt <= payload.fail_attempts:
            raise RuntimeError(f"attempt {ctx.attempt} fails on purpose")
        time.sleep(payload.sleep)
        client.rpush(f"{key}:done", f"{ctx.id}:{ctx.attempt}:{os.getpid()}")

    registry.register("sample.work", Work, work, description="Sleeps, recording start and end")
