"""How dispatch-service writes a moment: ISO 8601 in UTC to the millisecond, with a Z."""

from __future__ import annotations

import datetime as dt


def iso_millis(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)
