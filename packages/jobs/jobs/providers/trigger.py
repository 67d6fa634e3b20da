"""Trigger.dev provider: each job becomes a run of one small task that relays it to `POST /jobs/<type>`.

Publishing triggers the relay task (TRIGGER_TASK_ID, shipped in packages/jobs/trigger/) through Trigger.dev's
HTTP API on TRIGGER_API_URL (Trigger.dev Cloud or a self-hosted instance, see infra/trigger/), authenticated
with the environment's secret key (TRIGGER_SECRET_KEY). The run's payload is the job itself and the URL to push
it to; the task POSTs it to the push blueprint with an HMAC signature (JOBS_RELAY_SECRET), and a non-2xx answer
fails the attempt so that Trigger.dev's retry policy (maxAttempts = JOBS_MAX_ATTEMPTS) runs it again. Handlers
stay in Python; the push endpoint stays the only way in.

The job id is the run's idempotency key, so publishing the same job twice yields one run, and a tag
(`job:<id>`), so that `status` and `cancel` find the run from the job id alone, also in another process.

Endpoints, as routed in the triggerdotdev/trigger.dev repository (apps/webapp/app/routes/) with the request
and response schemas of packages/core/src/v3/schemas/api.ts:
- trigger: `POST /api/v1/tasks/{taskIdentifier}/trigger` (api.v1.tasks.$taskId.trigger.ts;
  TriggerTaskRequestBody -> TriggerTaskResponse `{"id": "run_...", "isCached"}`);
- batch trigger: `POST /api/v1/tasks/{taskIdentifier}/batch` (api.v1.tasks.$taskId.batch.ts;
  `{"items": [TriggerTaskRequestBody]}` -> `{"batchId", "runs": [run ids in item order]}`);
- retrieve a run: `GET /api/v3/runs/{runId}` (api.v3.runs.$runId.ts; RetrieveRunResponse);
- list runs: `GET /api/v1/runs?filter[tag]=...&filter[status]=...` (api.v1.runs.ts; ListRunResponse);
- cancel a run: `POST /api/v2/runs/{runId}/cancel` (api.v2.runs.$runParam.cancel.ts; `{"id"}`).
Errors are `{"error": "..."}` (401 bad key, 400 schema, 404 unknown task, 422 refused); rate limiting answers
429 problem+json with `x-ratelimit-reset` (epoch ms), which this client turns into a wait like `Retry-After`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests
from servicekit.http import HttpClient, retry_after_seconds

from ..errors import ProviderNotConfigured, PublishError, Unsupported
from ..settings import JobsSettings
from ..spi import Deliver, Job, JobProvider, JobStatus

DEFAULT_API_URL = "https://api.trigger.dev"
DEFAULT_TASK_ID = "jobs-deliver"
#: Per-job overrides a producer may set as job attributes (Trigger.dev duration strings: "30s", "10m", "1h").
DELAY_ATTRIBUTE = "trigger.delay"
TTL_ATTRIBUTE = "trigger.ttl"
# Documented limits: up to 1,000 items per batch (500 before SDK 4.3.1), tags of less than 128 characters.
BATCH_LIMIT = 500
TAG_MAX_LENGTH = 127
REMEMBERED_RUNS = 10_000

STATES = {
    "PENDING_VERSION": "pending",
    "QUEUED": "pending",
    "DEQUEUED": "pending",
    "DELAYED": "pending",
    "EXECUTING": "running",
    "WAITING": "running",
    "COMPLETED": "succeeded",
    "CANCELED": "canceled",
    "FAILED": "failed",
    "CRASHED": "failed",
    "SYSTEM_FAILURE": "failed",
    "TIMED_OUT": "failed",
    "EXPIRED": "expired",
}
DEAD_STATUSES = ("FAILED", "CRASHED", "SYSTEM_FAILURE", "TIMED_OUT", "EXPIRED")
FINAL_STATES = frozenset({"succeeded", "failed", "canceled", "expired"})


def job_tag(job_id: str) -> str:
    return f"job:{job_id}"


def type_tag(job_type: str) -> str:
    return f"type:{job_type}"


def _rate_limit_reset_as_retry_after(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """Trigger.dev's rate limiter says when the window resets (`x-ratelimit-reset`, epoch milliseconds) instead
    of sending `Retry-After`; expressing it as `Retry-After` lets servicekit's HttpClient wait exactly that long."""
    reset = response.headers.get("x-ratelimit-reset")
    if response.status_code == 429 and reset and "Retry-After" not in response.headers:
        try:
            seconds = (int(reset) - time.time() * 1000) / 1000
        except ValueError:
            return response
        response.headers["Retry-After"] = str(max(0, math.ceil(seconds)))
    return response


class TriggerDevProvider(JobProvider):
    name = "trigger"
    push_delivery = True

    def __init__(
        self,
        secret_key: str,
        push_base_url: str,
        *,
        api_url: str = DEFAULT_API_URL,
        task_id: str = DEFAULT_TASK_ID,
        max_attempts: int = 5,
        queue: str | None = None,
        ttl: str | None = None,
        timeout: float = 10.0,
        client_attempts: int = 4,
        client_total_seconds: float = 20.0,
    ):
        session = requests.Session()
        session.hooks["response"].append(_rate_limit_reset_as_retry_after)
        # Retrying a trigger is safe: the job id is the idempotency key, so a repeat returns the same run.
        self.http = HttpClient(
            api_url,
            "trigger.dev",
            timeout=timeout,
            max_attempts=client_attempts,
            max_total_seconds=client_total_seconds,
            token_provider=lambda: secret_key,
            session=session,
        )
        # Readiness asks once and quickly: a probe that retries for 20 s would outlast the probe's own timeout.
        self.probe = HttpClient(
            api_url,
            "trigger.dev",
            timeout=min(timeout, 3.0),
            max_attempts=1,
            token_provider=lambda: secret_key,
            session=session,
        )
        self.push_base_url = push_base_url.rstrip("/")
        self.task_id = task_id
        self.max_attempts = max_attempts
        self.queue = queue
        self.ttl = ttl
        self._runs: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> TriggerDevProvider:
        if not settings.trigger_secret_key or not settings.push_base_url:
            raise ProviderNotConfigured("JOBS_PROVIDER=trigger needs TRIGGER_SECRET_KEY and JOBS_PUSH_BASE_URL")
        return cls(
            settings.trigger_secret_key,
            settings.push_base_url,
            api_url=settings.trigger_api_url,
            task_id=settings.trigger_task_id,
            max_attempts=settings.max_attempts,
            queue=settings.trigger_queue,
            ttl=settings.trigger_ttl,
            timeout=settings.trigger_timeout_seconds,
        )

    # -- publishing -------------------------------------------------------------------------------------

    def url(self, job_type: str) -> str:
        return f"{self.push_base_url}/jobs/{job_type}"

    def request_body(self, job: Job) -> dict[str, Any]:
        """One TriggerTaskRequestBody: the relay task's payload and the run options of this job."""
        payload = {
            "url": self.url(job.type),
            "id": job.id,
            "type": job.type,
            "payload": dict(job.payload) if isinstance(job.payload, Mapping) else job.payload,
            "attributes": {k: str(v) for k, v in job.attributes.items()},
        }
        options: dict[str, Any] = {
            "idempotencyKey": job.id,
            "maxAttempts": self.max_attempts,
            "tags": [tag for tag in (job_tag(job.id), type_tag(job.type)) if len(tag) <= TAG_MAX_LENGTH],
        }
        if self.queue:
            options["queue"] = {"name": self.queue}
        ttl = job.attributes.get(TTL_ATTRIBUTE) or self.ttl
        if ttl:
            options["ttl"] = ttl
        if delay := job.attributes.get(DELAY_ATTRIBUTE):
            options["delay"] = delay
        return {"payload": payload, "options": options}

    def _task_path(self, suffix: str) -> str:
        return f"/api/v1/tasks/{quote(self.task_id, safe='')}/{suffix}"

    def publish(self, job: Job) -> None:
        body = self._call("POST", self._task_path("trigger"), f"job {job.id}", json=self.request_body(job))
        self._remember(job.id, body["id"])

    def publish_many(self, jobs: Iterable[Job]) -> None:
        """Batch trigger, up to BATCH_LIMIT jobs a request; each item keeps its own idempotency key."""
        pending = list(jobs)
        for start in range(0, len(pending), BATCH_LIMIT):
            chunk = pending[start : start + BATCH_LIMIT]
            items = [self.request_body(job) for job in chunk]
            body = self._call("POST", self._task_path("batch"), f"a batch of {len(chunk)} jobs", json={"items": items})
            runs = body.get("runs") or []
            if len(runs) != len(chunk):
                raise PublishError(f"trigger.dev answered {len(runs)} run ids for a batch of {len(chunk)} jobs")
            for job, run_id in zip(chunk, runs, strict=True):
                self._remember(job.id, run_id)

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.http.request(method, path, **kwargs)
        except requests.RequestException as exc:
            raise PublishError(f"trigger.dev unreachable for {what}: {exc}") from exc
        status = response.status_code
        if status >= 400:
            raise PublishError(
                f"trigger.dev refused {what}: HTTP {status} {_error_text(response)}",
                # 400 (the body fails the schema) and 422 (refused: a tag, a queue) will not change.
                permanent=status in (400, 422),
                throttled=status == 429,
                retry_after=retry_after_seconds(response, cap=3600.0),
            )
        try:
            answer = response.json()
        except ValueError:
            raise PublishError(f"trigger.dev answered {what} with a body that is not JSON") from None
        if not isinstance(answer, dict):
            raise PublishError(f"trigger.dev answered {what} with JSON that is not an object")
        return answer

    def consume(self, job_types: Iterable[str], deliver: Deliver, stop: threading.Event) -> None:
        raise Unsupported(
            "Trigger.dev runs the relay task, which pushes jobs over HTTP: mount jobs.push.push_blueprint "
            "(python -m jobs.worker serves it)"
        )

    # -- run state ----------------------------------------------------------------------------------------

    def _remember(self, job_id: str, run_id: str) -> None:
        with self._lock:
            self._runs[job_id] = run_id
            self._runs.move_to_end(job_id)
            while len(self._runs) > REMEMBERED_RUNS:
                self._runs.popitem(last=False)

    def run_id(self, job_id: str) -> str:
        """The run of a job: remembered from the trigger answer, else found by its `job:<id>` tag."""
        with self._lock:
            known = self._runs.get(job_id)
        if known:
            return known
        runs = self._list_runs({"filter[tag]": job_tag(job_id)}, limit=1)
        if not runs:
            raise LookupError(f"trigger.dev has no run for job {job_id}")
        run_id = str(runs[0]["id"])
        self._remember(job_id, run_id)
        return run_id

    def _list_runs(self, filters: Mapping[str, str], limit: int) -> list[dict[str, Any]]:
        params = {**filters, "filter[taskIdentifier]": self.task_id, "page[size]": str(min(max(limit, 1), 100))}
        return list(self._call("GET", "/api/v1/runs", "a run listing", params=params).get("data") or [])[:limit]

    def retrieve_run(self, run_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v3/runs/{quote(run_id, safe='')}", f"run {run_id}")

    def status(self, job_id: str) -> JobStatus:
        run = self.retrieve_run(self.run_id(job_id))
        payload = _mapping(run.get("payload"))
        error = _mapping(run.get("error"))
        return JobStatus(
            id=job_id,
            type=str(payload.get("type") or ""),
            state=STATES.get(run.get("status", ""), "pending"),
            provider_status=str(run.get("status")),
            attempts=int(run.get("attemptCount") or 0),
            run_id=run["id"],
            error=error.get("message"),
        )

    def cancel(self, job_id: str) -> bool:
        """Cancel the job's run unless it has already finished; True if it was canceled here."""
        current = self.status(job_id)
        if current.state in FINAL_STATES:
            return False
        self._call("POST", f"/api/v2/runs/{quote(current.run_id or '', safe='')}/cancel", f"cancel of job {job_id}")
        return True

    def dead_letters(self, job_type: str, limit: int = 100) -> list[Job]:
        """Runs of this type that will not run again (retries exhausted, aborted, crashed or expired)."""
        filters = {"filter[tag]": type_tag(job_type), "filter[status]": ",".join(DEAD_STATUSES)}
        return list(self._dead_jobs(self._list_runs(filters, limit), job_type))

    def _dead_jobs(self, runs: Sequence[Mapping[str, Any]], job_type: str) -> Iterator[Job]:
        for listed in runs:
            run = self.retrieve_run(listed["id"])
            relayed = _mapping(run.get("payload"))
            # As relayed: what the job type's model makes of it is up to whoever replays it.
            payload: Any = relayed.get("payload")
            yield Job(
                type=job_type,
                payload=payload,
                id=str(relayed.get("id") or run["id"]),
                attributes=dict(relayed.get("attributes") or {}),
                attempt=int(run.get("attemptCount") or 0),
            )

    def ping(self) -> None:
        response = self.probe.get("/api/v1/runs", params={"page[size]": "1"})
        if response.status_code >= 400:
            raise PublishError(
                f"trigger.dev answered the probe with HTTP {response.status_code} {_error_text(response)}"
            )

    def close(self) -> None:
        self.http.session.close()


def _mapping(value: object) -> Mapping[str, Any]:
    """A JSON object of a run (its payload, its error), or an empty one where the run has none."""
    return value if isinstance(value, Mapping) else {}


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, Mapping):
        return str(body.get("error") or body.get("detail") or body)[:500]
    return str(body)[:500]
