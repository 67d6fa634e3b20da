"""A small Trigger.dev for the tests: the HTTP API the provider calls, with the request and response shapes of
the triggerdotdev/trigger.dev webapp (apps/webapp/app/routes/api.v1.tasks.$taskId.trigger.ts,
api.v1.tasks.$taskId.batch.ts, api.v3.runs.$runId.ts, api.v1.runs.ts, api.v2.runs.$runParam.cancel.ts;
schemas in packages/core/src/v3/schemas/api.ts) and its errors (401 without or with a wrong key, 400 for a
body that fails the schema, 404 for an unknown task or run, 422 for a refused trigger, 429 from the rate
limiter). Runs execute a Python `executor` in place of the deployed task (see jobs_trigger_relay.py), with
Trigger.dev's semantics: attempts numbered from 1, a thrown error retried up to `maxAttempts`, `AbortRun`
failing the run at once, idempotency keys returning the existing run unless it failed or expired, delay, TTL
and cancel. Its `faults` (testkit.faults) make it misbehave as the real API can: a trigger that creates the
run and then stalls past the client's timeout, 429 with Retry-After and x-ratelimit-reset, a 500, a runs
listing that lags, one payload refused for good (422). It is not part of the product.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from testkit.faults import Faults
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class AbortRun(Exception):
    """What the task throws as AbortTaskRunError: the run fails without further attempts."""


Executor = Callable[[Any, int], None]
"""Runs one attempt of a run: (payload, attempt number); raises to fail the attempt."""

DEFAULT_MAX_ATTEMPTS = 3
MAX_TAGS_PER_RUN = 10
FINAL = {"COMPLETED", "CANCELED", "FAILED", "CRASHED", "SYSTEM_FAILURE", "EXPIRED", "TIMED_OUT"}
_DURATION = re.compile(r"^(\d+)(s|m|h|d|w)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _seconds(value: Any) -> float | None:
    """Trigger.dev durations: "30s", "10m", "1h", "2d", "1w", a number of seconds, or (delay) an ISO date."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if match := _DURATION.match(value):
            return int(match.group(1)) * _UNITS[match.group(2)]
        try:
            return (datetime.fromisoformat(value) - datetime.now(UTC)).total_seconds()
        except ValueError:
            return None
    return None


def _iso(at: float | None) -> str | None:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z") if at else None


@dataclass
class Run:
    id: str
    task: str
    payload: Any
    options: dict[str, Any]
    batch_id: str | None = None
    status: str = "QUEUED"
    attempt_count: int = 0
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    delayed_until: float | None = None
    expired_at: float | None = None
    error: dict[str, str] | None = None

    @property
    def tags(self) -> list[str]:
        tags = self.options.get("tags") or []
        return [tags] if isinstance(tags, str) else list(tags)

    def set(self, status: str) -> None:
        self.status = status
        self.updated_at = time.time()
        if status in FINAL:
            self.finished_at = self.updated_at

    def common(self) -> dict[str, Any]:
        """CommonRunFields of packages/core/src/v3/schemas/api.ts."""
        return {
            "id": self.id,
            "status": self.status,
            "taskIdentifier": self.task,
            "idempotencyKey": self.options.get("idempotencyKey"),
            "version": "20260101.1",
            "isQueued": self.status in {"QUEUED", "DEQUEUED", "DELAYED", "PENDING_VERSION"},
            "isExecuting": self.status == "EXECUTING",
            "isWaiting": self.status == "WAITING",
            "isCompleted": self.status in FINAL,
            "isSuccess": self.status == "COMPLETED",
            "isFailed": self.status in FINAL - {"COMPLETED", "CANCELED"},
            "isCancelled": self.status == "CANCELED",
            "isTest": False,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "startedAt": _iso(self.started_at),
            "finishedAt": _iso(self.finished_at),
            "delayedUntil": _iso(self.delayed_until),
            "ttl": self.options.get("ttl"),
            "expiredAt": _iso(self.expired_at),
            "tags": self.tags,
            "costInCents": 0,
            "baseCostInCents": 0,
            "durationMs": int(((self.finished_at or time.time()) - (self.started_at or time.time())) * 1000),
        }

    def retrieved(self) -> dict[str, Any]:
        """RetrieveRunResponse."""
        body = {
            **self.common(),
            "depth": 0,
            "triggerFunction": "batchTrigger" if self.batch_id else "trigger",
            "batchId": self.batch_id,
            "payload": self.payload,
            "relatedRuns": {},
            "attemptCount": self.attempt_count,
        }
        if self.error:
            body["error"] = self.error
        return {k: v for k, v in body.items() if v is not None}


class FakeTriggerDev:
    def __init__(
        self,
        secret_key: str = "tr_dev_fake0123456789abcdef",
        tasks: tuple[str, ...] = ("jobs-deliver",),
        queues: tuple[str, ...] = ("jobs",),
        retry_delay: float = 0.05,
    ):
        self.secret_key = secret_key
        self.tasks = set(tasks)
        self.queues = set(queues)
        self.retry_delay = retry_delay
        self.executor: Executor | None = None
        self.faults = Faults()
        self.paused = False  # runs stay QUEUED, as when no worker takes them
        self.rate_limited = 0  # the next N authenticated requests answer 429
        self.rate_limit_retry_after: float | None = 1.0  # None: only x-ratelimit-reset, as the webapp sends
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []  # (method, path + query, headers, json)
        self.runs: dict[str, Run] = {}
        self._idempotency: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeTriggerDev:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.executor = None
        self._server.shutdown()

    def calls(self, path_prefix: str) -> list[tuple[str, str, dict[str, str], Any]]:
        with self._lock:
            return [c for c in self.requests if c[1].startswith(path_prefix)]

    # -- HTTP -----------------------------------------------------------------------------------------

    @Request.application
    def _app(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            body = ...
        with self._lock:
            self.requests.append(
                (request.method, request.full_path.rstrip("?"), dict(request.headers), None if body is ... else body)
            )
        authorization = request.headers.get("Authorization")
        if not authorization:
            return self._problem(401, "Unauthorized", "No authorization header provided")
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return self._rate_limited()
        if self.faults.throttles():
            return self._rate_limited(self.faults.retry_after)
        if self.faults.fails():
            return self._json({"error": "Internal Server Error"}, 500)
        if authorization != f"Bearer {self.secret_key}":
            return self._json({"error": "Invalid API Key"}, 401)
        path, method = request.path, request.method
        if method == "POST" and (m := re.fullmatch(r"/api/v1/tasks/([^/]+)/(trigger|batch)", path)):
            if body is ... or body is None:
                return self._json({"error": "Invalid JSON" if body is ... else "Request body is empty"}, 400)
            return self._trigger(m.group(1), body) if m.group(2) == "trigger" else self._batch(m.group(1), body)
        if method == "GET" and (m := re.fullmatch(r"/api/v3/runs/([^/]+)", path)):
            run = self.runs.get(m.group(1))
            if run is None:
                return self._json({"error": "Run not found"}, 404, {"x-should-retry": "true"})
            return self._json(run.retrieved())
        if method == "GET" and path == "/api/v1/runs":
            return self._list(request.args)
        if method == "POST" and (m := re.fullmatch(r"/api/v2/runs/([^/]+)/cancel", path)):
            return self._cancel(m.group(1))
        return self._json({"error": "Not found"}, 404)

    @staticmethod
    def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status, headers=headers, mimetype="application/json")

    @staticmethod
    def _problem(status: int, title: str, detail: str, **extra: Any) -> Response:
        body = {
            "title": title,
            "status": status,
            "type": f"https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/{status}",
            "detail": detail,
            "error": detail,
            **extra,
        }
        return Response(json.dumps(body, indent=2), status, mimetype="application/problem+json")

    def _rate_limited(self, retry_after: float | None = None) -> Response:
        if retry_after is not None:
            self.rate_limit_retry_after = retry_after
        wait = self.rate_limit_retry_after if self.rate_limit_retry_after is not None else 1.0
        reset = int((time.time() + wait) * 1000)
        response = self._problem(
            429,
            "Rate Limit Exceeded",
            f"Rate limit exceeded 0/60 requests remaining. Retry in {wait} seconds.",
            reset=reset,
            limit=60,
            remaining=0,
            secondsUntilReset=wait,
        )
        response.headers.update(
            {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
        )
        if self.rate_limit_retry_after is not None:
            response.headers["Retry-After"] = str(int(self.rate_limit_retry_after))
        return response

    def _refusal(self, task: str, item: Any) -> Response | None:
        """The checks of TriggerTaskRequestBody (400) and of the trigger service (404, 422) for one item."""
        if task not in self.tasks:
            return self._json({"error": "Task not found"}, 404)
        if not isinstance(item, dict) or not isinstance(item.get("options", {}), dict):
            return self._json({"error": 'Validation error: Expected object, received string at "options"'}, 400)
        options = item.get("options") or {}
        tags = options.get("tags") or []
        tags = [tags] if isinstance(tags, str) else tags
        for index, tag in enumerate(tags):
            if not isinstance(tag, str) or len(tag) >= 128:
                return self._json(
                    {"error": f'Validation error: Tags must be less than 128 characters at "options.tags[{index}]"'},
                    400,
                )
        if len(tags) > MAX_TAGS_PER_RUN:
            return self._json(
                {"error": f"Runs can only have {MAX_TAGS_PER_RUN} tags, you're trying to set {len(tags)}."}, 422
            )
        queue = (options.get("queue") or {}).get("name")
        if queue is not None and queue not in self.queues:
            return self._json({"error": f"Specified queue '{queue}' not found or not associated with a task."}, 422)
        return None

    def _trigger(self, task: str, body: Any) -> Response:
        if refused := self._refusal(task, body):
            return refused
        if isinstance(body, dict) and self.faults.refuses(body.get("payload")):
            return self._json({"error": "Payload refused by a task's schema"}, 422)
        run, cached = self._create(task, body)
        self.faults.after_acting()
        return self._json({"id": run.id, "isCached": cached})

    def runs_for(self, idempotency_key: str) -> list[Run]:
        """Every run ever created for an idempotency key (the truth, not the lagging listing)."""
        with self._lock:
            return [r for r in self.runs.values() if r.options.get("idempotencyKey") == idempotency_key]

    def _batch(self, task: str, body: Any) -> Response:
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return self._json({"error": 'Validation error: Required at "items"'}, 400)
        if not items:
            return self._json({"error": "No items to trigger"}, 400)
        for item in items:
            if refused := self._refusal(task, item):
                return refused
        batch_id = f"batch_{next(self._ids)}"
        runs = [self._create(task, item, batch_id)[0] for item in items]
        return self._json({"batchId": batch_id, "runs": [r.id for r in runs]})

    def _create(self, task: str, item: dict[str, Any], batch_id: str | None = None) -> tuple[Run, bool]:
        options = dict(item.get("options") or {})
        key = options.get("idempotencyKey")
        with self._lock:
            if key and (existing := self._idempotency.get((task, key))):
                run = self.runs[existing]
                # The webapp clears the key of an expired or failed run and triggers anew.
                if run.status not in {"FAILED", "EXPIRED"}:
                    return run, True
            run = Run(f"run_{next(self._ids):06d}", task, item.get("payload"), options, batch_id)
            if (delay := _seconds(options.get("delay"))) is not None and delay > 0:
                run.delayed_until = time.time() + delay
                run.status = "DELAYED"
            self.runs[run.id] = run
            if key:
                self._idempotency[(task, key)] = run.id
        threading.Thread(target=self._execute, args=(run,), daemon=True).start()
        return run, False

    def _list(self, args: Any) -> Response:
        size = int(args.get("page[size]", "25"))
        tags = set(filter(None, args.get("filter[tag]", "").split(",")))
        statuses = set(filter(None, args.get("filter[status]", "").split(",")))
        tasks = set(filter(None, args.get("filter[taskIdentifier]", "").split(",")))
        with self._lock:
            runs = sorted(self.runs.values(), key=lambda r: r.id, reverse=True)  # newest first
        matching = [
            {**r.common(), "env": {"id": "env_dev", "name": "dev"}}
            for r in runs
            if (not tags or tags & set(r.tags))
            and (not statuses or r.status in statuses)
            and (not tasks or r.task in tasks)
            and self.faults.visible(r.created_at)
        ]
        return self._json({"data": matching[:size], "pagination": {}})

    def _cancel(self, run_id: str) -> Response:
        run = self.runs.get(run_id)
        if run is None:
            return self._json({"error": "Run not found"}, 404)
        with self._lock:
            if run.status not in FINAL:
                run.set("CANCELED")
        return self._json({"id": run.id})

    # -- execution ------------------------------------------------------------------------------------

    def _execute(self, run: Run) -> None:
        ttl = _seconds(run.options.get("ttl"))
        while True:  # wait for the delay, a free worker (not paused) and an executor
            with self._lock:
                if run.status in FINAL:
                    return
                now = time.time()
                if run.delayed_until and now < run.delayed_until:
                    pass
                elif run.status == "DELAYED":
                    run.set("QUEUED")
                    continue
                elif ttl is not None and now - (run.delayed_until or run.created_at) > ttl:
                    run.expired_at = now
                    run.set("EXPIRED")
                    return
                elif not self.paused and self.executor is not None:
                    break
            time.sleep(0.02)
        max_attempts = int(run.options.get("maxAttempts") or DEFAULT_MAX_ATTEMPTS)
        for attempt in itertools.count(1):
            with self._lock:
                if run.status in FINAL:
                    return
                run.attempt_count = attempt
                run.started_at = run.started_at or time.time()
                run.set("EXECUTING")
                executor = self.executor
            if executor is None:
                return
            try:
                executor(run.payload, attempt)
            except AbortRun as exc:
                self._finish(run, "FAILED", {"name": "AbortTaskRunError", "message": str(exc)})
                return
            except Exception as exc:  # noqa: BLE001 - a thrown error fails the attempt
                if attempt >= max_attempts:
                    self._finish(run, "FAILED", {"name": type(exc).__name__, "message": str(exc)})
                    return
                with self._lock:
                    if run.status not in FINAL:
                        run.set("QUEUED")
                time.sleep(self.retry_delay * attempt)
                continue
            self._finish(run, "COMPLETED", None)
            return

    def _finish(self, run: Run, status: str, error: dict[str, str] | None) -> None:
        with self._lock:
            if run.status not in FINAL:
                run.error = error
                run.set(status)
