"""A small Pub/Sub server for the tests: the real google-cloud-pubsub client talks gRPC to it.

It keeps topics, subscriptions and messages in memory and implements what the provider uses:
CreateTopic, GetTopic, ListTopics, Publish, CreateSubscription, GetSubscription, Pull, Acknowledge,
ModifyAckDeadline and StreamingPull, with ack deadlines, nack (deadline 0) redelivery, retry backoff
(`retry_policy.minimum_backoff`) and `delivery_attempt` counting. It is not part of the product.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from google.protobuf import empty_pb2, timestamp_pb2
from google.pubsub_v1 import types


@dataclass
class _Pending:
    message: types.PubsubMessage
    attempt: int = 0
    due: float = 0.0


@dataclass
class _Sub:
    sub: types.Subscription
    queue: deque = field(default_factory=deque)
    outstanding: dict = field(default_factory=dict)  # ack_id -> (_Pending, deadline)


class FakePubSub:
    def __init__(self) -> None:
        self.topics: dict[str, types.Topic] = {}
        self.subs: dict[str, _Sub] = {}
        self.lock = threading.Condition()
        self.ids = itertools.count(1)
        self.server: grpc.Server | None = None
        self.port = 0
        self.publish_failures = 0  # the next N Publish calls answer UNAVAILABLE (a broker outage)
        self.max_lease_seconds: float | None = None  # caps ack deadlines, so expired leases show up fast

    # -- Publisher -------------------------------------------------------------------------------
    def create_topic(self, request: types.Topic, context: grpc.ServicerContext) -> types.Topic:
        with self.lock:
            if request.name in self.topics:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, "Topic already exists")
            self.topics[request.name] = request
            return request

    def get_topic(self, request: types.GetTopicRequest, context: grpc.ServicerContext) -> types.Topic:
        with self.lock:
            if request.topic not in self.topics:
                context.abort(grpc.StatusCode.NOT_FOUND, "Topic not found")
            return self.topics[request.topic]

    def list_topics(self, request: types.ListTopicsRequest, context) -> types.ListTopicsResponse:
        with self.lock:
            return types.ListTopicsResponse(
                topics=[t for n, t in self.topics.items() if n.startswith(request.project + "/")]
            )

    def publish(self, request: types.PublishRequest, context: grpc.ServicerContext) -> types.PublishResponse:
        with self.lock:
            if self.publish_failures > 0:
                self.publish_failures -= 1
                context.abort(grpc.StatusCode.UNAVAILABLE, "broker down")
            if request.topic not in self.topics:
                context.abort(grpc.StatusCode.NOT_FOUND, "Topic not found")
            ids = []
            now = timestamp_pb2.Timestamp()
            now.GetCurrentTime()
            for message in request.messages:
                message_id = str(next(self.ids))
                ids.append(message_id)
                stored = types.PubsubMessage(
                    data=message.data, attributes=dict(message.attributes), message_id=message_id, publish_time=now
                )
                for sub in self.subs.values():
                    if sub.sub.topic == request.topic:
                        sub.queue.append(_Pending(stored))
            self.lock.notify_all()
            return types.PublishResponse(message_ids=ids)

    # -- Subscriber ------------------------------------------------------------------------------
    def create_subscription(self, request: types.Subscription, context) -> types.Subscription:
        with self.lock:
            if request.name in self.subs:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, "Subscription already exists")
            if request.topic not in self.topics:
                context.abort(grpc.StatusCode.NOT_FOUND, "Topic not found")
            if not request.ack_deadline_seconds:
                request.ack_deadline_seconds = 10
            self.subs[request.name] = _Sub(request)
            return request

    def get_subscription(self, request: types.GetSubscriptionRequest, context) -> types.Subscription:
        with self.lock:
            if request.subscription not in self.subs:
                context.abort(grpc.StatusCode.NOT_FOUND, "Subscription not found")
            return self.subs[request.subscription].sub

    def _take(self, sub: _Sub, limit: int) -> list[types.ReceivedMessage]:
        """Called with the lock held: hand out up to `limit` due messages."""
        now = time.monotonic()
        for ack_id, (pending, deadline) in list(sub.outstanding.items()):
            if deadline <= now:  # lease expired: redeliver
                del sub.outstanding[ack_id]
                sub.queue.append(pending)
        out = []
        for pending in list(sub.queue):
            if len(out) >= limit:
                break
            if pending.due > now:
                continue
            sub.queue.remove(pending)
            pending.attempt += 1
            ack_id = f"{pending.message.message_id}-{next(self.ids)}"
            sub.outstanding[ack_id] = (pending, now + self._lease(sub.sub.ack_deadline_seconds))
            out.append(types.ReceivedMessage(ack_id=ack_id, message=pending.message, delivery_attempt=pending.attempt))
        return out

    def _lease(self, seconds: float) -> float:
        return min(seconds, self.max_lease_seconds) if self.max_lease_seconds else seconds

    def pull(self, request: types.PullRequest, context) -> types.PullResponse:
        with self.lock:
            sub = self.subs.get(request.subscription)
            if sub is None:
                context.abort(grpc.StatusCode.NOT_FOUND, "Subscription not found")
            return types.PullResponse(received_messages=self._take(sub, request.max_messages or 100))

    def _ack(self, subscription: str, ack_ids) -> None:
        with self.lock:
            sub = self.subs.get(subscription)
            for ack_id in ack_ids:
                if sub:
                    sub.outstanding.pop(ack_id, None)

    def _modack(self, subscription: str, ack_ids, seconds) -> None:
        with self.lock:
            sub = self.subs.get(subscription)
            if sub is None:
                return
            for ack_id, secs in zip(ack_ids, seconds, strict=False):
                entry = sub.outstanding.get(ack_id)
                if entry is None:
                    continue
                if secs == 0:  # nack
                    del sub.outstanding[ack_id]
                    backoff = sub.sub.retry_policy.minimum_backoff
                    entry[0].due = time.monotonic() + (backoff.total_seconds() if backoff else 0)
                    sub.queue.append(entry[0])
                else:
                    sub.outstanding[ack_id] = (entry[0], time.monotonic() + self._lease(secs))
            self.lock.notify_all()

    def acknowledge(self, request: types.AcknowledgeRequest, context) -> empty_pb2.Empty:
        self._ack(request.subscription, request.ack_ids)
        return empty_pb2.Empty()

    def modify_ack_deadline(self, request: types.ModifyAckDeadlineRequest, context) -> empty_pb2.Empty:
        self._modack(request.subscription, request.ack_ids, [request.ack_deadline_seconds] * len(request.ack_ids))
        return empty_pb2.Empty()

    def streaming_pull(self, request_iterator, context: grpc.ServicerContext):
        first = next(request_iterator)
        subscription = first.subscription
        with self.lock:
            sub = self.subs.get(subscription)
        if sub is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "Subscription not found")
        limit = first.max_outstanding_messages or 1000
        if first.ack_ids:
            self._ack(subscription, first.ack_ids)

        def read_requests() -> None:
            try:
                for req in request_iterator:
                    if req.ack_ids:
                        self._ack(subscription, req.ack_ids)
                    if req.modify_deadline_ack_ids:
                        self._modack(subscription, req.modify_deadline_ack_ids, req.modify_deadline_seconds)
            except grpc.RpcError:
                pass

        threading.Thread(target=read_requests, daemon=True).start()
        while context.is_active():
            with self.lock:
                messages = self._take(sub, limit)
                if not messages:
                    self.lock.wait(0.05)
            if messages:
                yield types.StreamingPullResponse(received_messages=messages)

    # -- server ----------------------------------------------------------------------------------
    def start(self) -> str:
        def unary(fn, req_type, resp_type):
            return grpc.unary_unary_rpc_method_handler(
                fn,
                request_deserializer=req_type.deserialize,
                response_serializer=getattr(resp_type, "serialize", None) or resp_type.SerializeToString,
            )

        publisher = grpc.method_handlers_generic_handler(
            "google.pubsub.v1.Publisher",
            {
                "CreateTopic": unary(self.create_topic, types.Topic, types.Topic),
                "GetTopic": unary(self.get_topic, types.GetTopicRequest, types.Topic),
                "ListTopics": unary(self.list_topics, types.ListTopicsRequest, types.ListTopicsResponse),
                "Publish": unary(self.publish, types.PublishRequest, types.PublishResponse),
            },
        )
        empty = type("E", (), {"serialize": staticmethod(lambda m: m.SerializeToString())})
        subscriber = grpc.method_handlers_generic_handler(
            "google.pubsub.v1.Subscriber",
            {
                "CreateSubscription": unary(self.create_subscription, types.Subscription, types.Subscription),
                "GetSubscription": unary(self.get_subscription, types.GetSubscriptionRequest, types.Subscription),
                "Pull": unary(self.pull, types.PullRequest, types.PullResponse),
                "Acknowledge": unary(self.acknowledge, types.AcknowledgeRequest, empty),
                "ModifyAckDeadline": unary(self.modify_ack_deadline, types.ModifyAckDeadlineRequest, empty),
                "StreamingPull": grpc.stream_stream_rpc_method_handler(
                    self.streaming_pull,
                    request_deserializer=types.StreamingPullRequest.deserialize,
                    response_serializer=types.StreamingPullResponse.serialize,
                ),
            },
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
        self.server.add_generic_rpc_handlers((publisher, subscriber))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(grace=None)
