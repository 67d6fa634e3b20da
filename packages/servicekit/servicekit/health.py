"""``/healthz`` (the process answers) and ``/readyz`` (every dependency answers)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Literal

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from .validation import endpoint

ReadinessCheck = Callable[[], object]
log = logging.getLogger("servicekit.health")


class Health(BaseModel):
    status: Literal["ok"]
    service: str


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    service: str
    checks: dict[str, dict[str, Any]]


def _timed(check: ReadinessCheck) -> tuple[object, float]:
    started = time.perf_counter()
    detail = check()
    return detail, time.perf_counter() - started


# A label a check may show (``"embedded"``, ``"mongo"``): lower case, no path, URL or setting name can pass.
_LABEL = re.compile(r"[a-z0-9][a-z0-9 _-]{0,31}")


def _shown(value: object) -> bool:
    return isinstance(value, bool | int | float) or (isinstance(value, str) and bool(_LABEL.fullmatch(value)))


def _outcome(name: str, future: Future[tuple[object, float]], timeout: float) -> dict[str, Any]:
    """What ``/readyz`` shows of one check: up or down, how long it took, and the numbers, flags and short
    labels it reports. It is public, so no free text: an error's message (a path, a URL, a setting's name)
    goes to the log, and a detail that is not a number, flag or label is left out."""
    try:
        detail, elapsed = future.result(timeout=timeout)
    except FutureTimeout:
        log.warning("readiness check %s: no answer within %gs", name, timeout)
        return {"status": "down", "error": f"no answer within {timeout:g}s"}
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency means "down"
        log.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, str(exc)[:300])
        return {"status": "down", "error": type(exc).__name__}
    result: dict[str, Any] = {"status": "up", "latency_ms": round(elapsed * 1000, 1)}
    if isinstance(detail, dict):
        result.update({key: value for key, value in detail.items() if _shown(value)})
    return result


def health_blueprint(service: str, checks: dict[str, ReadinessCheck], timeout: float) -> Blueprint:
    bp = Blueprint("servicekit", __name__)
    pool = ThreadPoolExecutor(max_workers=max(2, len(checks)), thread_name_prefix="readyz")

    @bp.get("/healthz")
    @endpoint(summary="The process answers", response=Health)
    def healthz() -> Response:
        return jsonify(status="ok", service=service)

    @bp.get("/readyz")
    @endpoint(
        summary="Every dependency answers",
        response=Readiness,
        responses={503: ("application/json", Readiness)},
    )
    def readyz() -> tuple[Response, int]:
        # All checks run at once, so a slow dependency costs one timeout, not one per check.
        futures = {name: pool.submit(_timed, check) for name, check in checks.items()}
        results = {name: _outcome(name, future, timeout) for name, future in futures.items()}
        ready = all(item["status"] == "up" for item in results.values())
        body = {"status": "ready" if ready else "not ready", "service": service, "checks": results}
        return jsonify(body), 200 if ready else 503

    return bp
