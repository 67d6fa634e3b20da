"""When the daily batch runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def next_run(now: datetime, hour: int) -> datetime:
    """The next ``hour``:00 UTC strictly after ``now``."""
    today = now.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)
