"""Which fault, if any, a simulated request suffers.

A fault comes from, in order: the request itself (``?fault=`` or ``X-Sim-Fault``), a queue of one-off
faults armed through ``POST /_sim/faults`` (e.g. "the next 2 list pages of jbhunt answer 500"), or
the configuration (``SIM_FAULTS``), which makes every request of a portal fail for a whole run. The first
two are test controls: off, with ``/_sim/faults``, when ``SIM_CONTROL_ENABLED=false``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import request

FAULTS = ("slow", "500", "login", "layout")
STAGES = ("login", "list", "api", "any")


@dataclass
class Armed:
    fault: str
    stage: str
    remaining: int


class FaultBoard:
    def __init__(self, configured: dict[str, str], slow_seconds: float, per_request: bool = True) -> None:
        self.configured = configured
        self.slow_seconds = slow_seconds
        self.per_request = per_request
        self._armed: dict[str, list[Armed]] = {}
        self._lock = threading.Lock()

    def arm(self, portal: str, fault: str, stage: str = "any", times: int = 1) -> None:
        with self._lock:
            self._armed.setdefault(portal, []).append(Armed(fault, stage, times))

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def state(self) -> dict:
        with self._lock:
            return {
                "configured": self.configured,
                "armed": {p: [a.__dict__ for a in items] for p, items in self._armed.items() if items},
            }

    def take(self, portal: str, stage: str) -> str | None:
        asked = request.args.get("fault") or request.headers.get("X-Sim-Fault")
        if self.per_request and asked in FAULTS:
            return asked
        with self._lock:
            for armed in self._armed.get(portal, []):
                if armed.remaining > 0 and armed.stage in (stage, "any"):
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._armed[portal].remove(armed)
                    return armed.fault
        return self.configured.get(portal)

    def delay(self) -> None:
        time.sleep(self.slow_seconds)


def suffer(portal: str, stage: str) -> tuple[str | None, tuple | None]:
    """Apply a fault: sleep for ``slow``, answer for ``500``; the caller handles ``login`` and ``layout``."""
    from flask import current_app

    board: FaultBoard = current_app.config["FAULTS"]
    fault = board.take(portal, stage)
    if fault == "slow":
        board.delay()
    if fault == "500":
        return fault, (
            "<html><body><h1>500 Internal Server Error</h1><p>Please try again later.</p></body></html>",
            500,
            {"Content-Type": "text/html"},
        )
    return fault, None
