"""The day's lists parsed once per version and kept for the process's next requests: one day at a time, the
day being dispatched (an /assign of 200,000 packages would otherwise parse 60 MB of JSON per call)."""

from __future__ import annotations

import threading

from ..domain.day_lists import DayLists


class ParsedLists:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: DayLists | None = None

    def get(self, day: str, version: str) -> DayLists | None:
        with self._lock:
            kept = self._kept
        return kept if kept is not None and (kept.day, kept.version) == (day, version) else None

    def keep(self, lists: DayLists) -> None:
        with self._lock:
            self._kept = lists
