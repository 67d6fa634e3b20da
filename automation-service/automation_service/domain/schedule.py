"""When the schedule starts a run: every workers' schedule reads the last start, so they do not pile up."""

from __future__ import annotations

from datetime import datetime, timedelta


def run_is_due(last_started_at: datetime | None, now: datetime, interval_seconds: int) -> bool:
    return last_started_at is None or now - last_started_at >= timedelta(seconds=interval_seconds)
