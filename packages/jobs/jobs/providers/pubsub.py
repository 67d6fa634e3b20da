"""Google Pub/Sub provider (google-cloud-pubsub), on GCP or the emulator (`PUBSUB_EMULATOR_HOST`).

Layout, one topic per job type (so that each consuming application subscribes only to the types it
handles, and a dead-letter policy is per type):

- topic `<PUBSUB_TOPIC_PREFIX><type>` (default `jobs.load.assigned`), message data = the JSON payload,
  attributes `job_id`, `job_type` plus the job's own attributes;
- subscription `<topic>.<PUBSUB_SUBSCRIPTION>` with a dead-letter policy to `<topic>.dead` and a retry
  policy (backoff from JOBS_RETRY_DELAY_SECONDS); subscription `<topic>.dead.parked` keeps the dead letters.

Consumption is a streaming pull per type with flow control (JOBS_CONCURRENCY messages outstanding),
ack after the handler succeeded, nack when it raised. Pub/Sub's own dead-lettering applies after
`max(5, JOBS_MAX_ATTEMPTS)` deliveries on GCP (the service account needs publisher rights on the dead
topic and subscriber rights on the subscription); the consumer also parks a job itself after
JOBS_MAX_ATTEMPTS deliveries or a permanent error, which is what happens on the emulator, which has no
dead-lettering.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from google.cloud.pubsub_v1.subscriber.scheduler import ThreadScheduler
from google.protobuf import duration_pb2

from .. import metrics
from ..errors import PublishError
from ..settings import JobsSettings
from ..spi import Deliver, Job, JobProvider, is_permanent

log = logging.getLogger("jobs.pubsub")
PARKED = "parked"


class PubSubProvider(JobProvider):
    name = "pubsub"
    parallel_consumers = False

    def __init__(
        self,
        project_id: str,
        *,
        emulator_host: str | None = None,
        topic_prefix: str = "jobs.",
        subscription: str = "workers",
        max_attempts: int = 5,
        retry_delay_seconds: float = 10.0,
        concurrency: int = 4,
        ack_deadline_seconds: int = 60,
        publish_timeout: float = 30.0,
    ):
        if emulator_host:
            # The client libraries read the emulator address from the environment only.
            os.environ["PUBSUB_EMULATOR_HOST"] = emulator_host
        self.project_id = project_id
        self.topic_prefix = topic_prefix
        self.subscription = subscription
        self.max_attempts = max_attempts
        self.retry_delay_seconds = retry_delay_seconds
        self.concurrency = concurrency
        self.ack_deadline_seconds = ack_deadline_seconds
        self.publish_timeout = publish_timeout
        self._publisher: pubsub_v1.PublisherClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> PubSubProvider:
        return cls(
            settings.pubsub_project_id,
            emulator_host=settings.pubsub_emulator_host,
            topic_prefix=settings.pubsub_topic_prefix,
            subscription=settings.pubsub_subscription,
            max_attempts=settings.max_attempts,
            retry_delay_seconds=settings.retry_delay_seconds,
            concurrency=settings.concurrency,
            ack_deadline_seconds=settings.pubsub_ack_deadline_seconds,
        )

    # -- names -----------------------------------------------------------------------------------

    def topic(self, job_type: str) -> str:
        return f"projects/{self.project_id}/topics/{self.topic_prefix}{job_type}"

    def dead_topic(self, job_type: str) -> str:
        return f"{self.topic(job_type)}.dead"

    def subscription_path(self, job_type: str) -> str:
        return f"projects/{self.project_id}/subscriptions/{self.topic_prefix}{job_type}.{self.subscription}"

    def parked_subscription(self, job_type: str) -> str:
        return f"projects/{self.project_id}/subscriptions/{self.topic_prefix}{job_type}.dead.{PARKED}"

    @property
    def publisher(self) -> pubsub_v1.PublisherClient:
        with self._lock:
            if self._publisher is None:
                self._publisher = pubsub_v1.PublisherClient()
            return self._publisher

    # -- provisioning ----------------------------------------------------------------------------

    def provision(self, job_types: Iterable[str]) -> None:
        subscriber = pubsub_v1.SubscriberClient()
        try:
            for job_type in job_types:
                for topic in (self.topic(job_type), self.dead_topic(job_type)):
                    try:
                        self.publisher.create_topic(request={"name": topic})
                    except gexc.AlreadyExists:
                        pass
                backoff = max(0.0, min(self.retry_delay_seconds, 600.0))
                self._create_subscription(
                    subscriber,
                    {
                        "name": self.subscription_path(job_type),
                        "topic": self.topic(job_type),
                        "ack_deadline_seconds": self.ack_deadline_seconds,
                        "dead_letter_policy": {
                            "dead_letter_topic": self.dead_topic(job_type),
                            "max_delivery_attempts": min(100, max(5, self.max_attempts)),
                        },
                        "retry_policy": {
                            "minimum_backoff": duration_pb2.Duration(
                                seconds=int(backoff), nanos=int(backoff % 1 * 1e9)
                            ),
                            "maximum_backoff": duration_pb2.Duration(seconds=600),
                        },
                    },
                )
                self._create_subscription(
                    subscriber, {"name": self.parked_subscription(job_type), "topic": self.dead_topic(job_type)}
                )
        finally:
            subscriber.close()

    @staticmethod
    def _create_subscription(subscriber: pubsub_v1.SubscriberClient, request: dict[str, Any]) -> None:
        try:
            subscriber.create_subscription(request=request)
        except gexc.AlreadyExists:
            pass

    # -- producer side ---------------------------------------------------------------------------

    def publish(self, job: Job) -> None:
        data = json.dumps(job.payload, separators=(",", ":")).encode()
        attributes = {**{str(k): str(v) for k, v in job.attributes.items()}, "job_id": job.id, "job_type": job.type}
        try:
            try:
                self._publish(self.topic(job.type), data, attributes)
            except gexc.NotFound:
                # A topic nobody provisioned yet: create it with its subscription, or the job would
                # reach no subscriber and be dropped.
                self.provision([job.type])
                self._publish(self.topic(job.type), data, attributes)
        except (gexc.GoogleAPICallError, gexc.RetryError, TimeoutError) as exc:
            raise PublishError(f"pub/sub did not take job {job.id}: {exc}") from exc

    def _publish(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        message_id: str = self.publisher.publish(topic, data, **attributes).result(timeout=self.publish_timeout)
        return message_id

    # -- consumer side ---------------------------------------------------------------------------

    def consume(self, job_types: Iterable[str], deliver: Deliver, stop: threading.Event) -> None:
        subscriber = pubsub_v1.SubscriberClient()
        futures = []
        flow = pubsub_v1.types.FlowControl(
            max_messages=self.concurrency, max_lease_duration=max(600, self.ack_deadline_seconds)
        )
        try:
            for job_type in job_types:
                scheduler = ThreadScheduler(
                    ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"pubsub-{job_type}")
                )
                futures.append(
                    subscriber.subscribe(
                        self.subscription_path(job_type),
                        callback=self._callback(job_type, deliver),
                        flow_control=flow,
                        scheduler=scheduler,
                        await_callbacks_on_shutdown=True,
                    )
                )
            while not stop.wait(0.5):
                if futures and all(f.done() for f in futures):
                    for future in futures:
                        future.result()  # surfaces why the streams ended
                    return
        finally:
            # cancel() stops the streams; with await_callbacks_on_shutdown the handlers in flight finish
            # (and ack) first, and messages received but not started are nacked for redelivery.
            for future in futures:
                future.cancel()
            for future in futures:
                try:
                    future.result(timeout=60)
                except Exception:  # noqa: BLE001 - shutting down: the cause is logged by the client
                    log.debug("streaming pull ended", exc_info=True)
            subscriber.close()

    def _callback(self, job_type: str, deliver: Deliver) -> Callable[[Any], None]:
        def on_message(message: Any) -> None:
            attempt = message.delivery_attempt or 1
            try:
                job = Job(
                    type=job_type,
                    payload=json.loads(message.data or b"null"),
                    id=message.attributes.get("job_id") or message.message_id,
                    attributes={k: v for k, v in message.attributes.items() if k not in ("job_id", "job_type")},
                    attempt=attempt,
                )
            except ValueError as exc:
                self._park(message, job_type, f"unreadable message: {exc}")
                return
            try:
                deliver(job)
            except Exception as exc:  # noqa: BLE001 - any handler failure means: retry or park
                if is_permanent(exc) or attempt >= self.max_attempts:
                    self._park(message, job_type, repr(exc))
                else:
                    message.nack()
                return
            message.ack()

        return on_message

    def _park(self, message: Any, job_type: str, error: str) -> None:
        attributes = {**message.attributes, "error": error[:1000], "attempts": str(message.delivery_attempt or 1)}
        log.error("job dead-lettered", extra={"job_id": attributes.get("job_id"), "job_type": job_type, "error": error})
        try:
            self._publish(self.dead_topic(job_type), message.data, attributes)
        except Exception:  # noqa: BLE001 - not parked: let Pub/Sub redeliver rather than lose it
            log.exception("could not park job %s; it will be redelivered", attributes.get("job_id"))
            message.nack()
            return
        metrics.dead_lettered.labels(job_type, self.name).inc()
        message.ack()

    def dead_letters(self, job_type: str, limit: int = 100) -> list[Job]:
        """Peeks at the parked subscription (messages are not acknowledged, they stay parked)."""
        subscriber = pubsub_v1.SubscriberClient()
        try:
            response = subscriber.pull(
                request={"subscription": self.parked_subscription(job_type), "max_messages": limit}, timeout=10
            )
            if response.received_messages:
                subscriber.modify_ack_deadline(
                    request={
                        "subscription": self.parked_subscription(job_type),
                        "ack_deadline_seconds": 0,
                        "ack_ids": [m.ack_id for m in response.received_messages],
                    }
                )
        finally:
            subscriber.close()
        return [
            Job(
                type=job_type,
                payload=json.loads(m.message.data or b"null"),
                id=m.message.attributes.get("job_id", m.message.message_id),
                attributes=dict(m.message.attributes),
                attempt=int(m.message.attributes.get("attempts", 0)),
            )
            for m in response.received_messages
        ]

    def ping(self) -> None:
        try:
            self.publisher.list_topics(request={"project": f"projects/{self.project_id}", "page_size": 1}, timeout=5)
        except gexc.PermissionDenied:
            pass  # reachable: a publisher-only identity may not list topics

    def close(self) -> None:
        with self._lock:
            if self._publisher is not None:
                self._publisher.stop()
                self._publisher = None
