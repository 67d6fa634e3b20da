"""``/healthz`` (the process answers) and ``/readyz`` (every dependency answers)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Literal

from flask import Blueprint, jsonify
from pydantic import BaseModel

from .validation import endpoint

ReadinessCheck = Callable[[], object]


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


def _outcome(future, timeout: float) -> dict:
    try:
        detail, elapsed = future.result(timeout=timeout)
    except FutureTimeout:
        return {"status": "down", "error": f"no answer within {timeout:g}s"}
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency means "down"
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    result = {"status": "up", "latency_ms": round(elapsed * 1000, 1)}
    if isinstance(detail, dict):
        result.update(detail)
    return result


def health_blueprint(service: str, checks: dict[str, ReadinessCheck], timeout: float) -> Blueprint:
    bp = Blueprint("servicekit", __name__)
    pool = ThreadPoolExecutor(max_workers=max(2, len(checks)), thread_name_prefix="readyz")

    @bp.get("/healthz")
    @endpoint(summary="The process answers", response=Health)
    def healthz():
        return jsonify(status="ok", service=service)

    @bp.get("/readyz")
    @endpoint(
        summary="Every dependency answers",
        response=Readiness,
        responses={503: ("application/json", Readiness)},
    )
    def readyz():
        # All checks run at once, so a slow dependency costs one timeout, not one per check.
        futures = {name: pool.submit(_timed, check) for name, check in checks.items()}
        results = {name: _outcome(future, timeout) for name, future in futures.items()}
        ready = all(item["status"] == "up" for item in results.values())
        body = {"status": "ready" if ready else "not ready", "service": service, "checks": results}
        return jsonify(body), 200 if ready else 503

    return bp
