"""boto3 clients of dispatch-service and what their failures mean to a client of ours.

Retries are botocore's (`standard` mode: exponential backoff with jitter on throttling, 5xx and connection
errors, bounded by `AWS_MAX_ATTEMPTS`). When the last attempt fails, servicekit answers a connection error
with 503 and Retry-After; `translated` raises servicekit's Unavailable (the same answer) for the AWS error
codes that mean "try later".
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from servicekit import counter
from servicekit.domain_errors import Unavailable
from servicekit.errors import dependency_unavailable
from storage import StorageError

from ..settings import Settings

log = logging.getLogger(__name__)
RETRY_LATER_CODES = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "SlowDown",
    "TransactionInProgressException",
    # A table or bucket that is not there yet: provisioning has not run; nothing a client can fix.
    "ResourceNotFoundException",
    "NoSuchBucket",
}
THROTTLING_CODES = {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}

_retries = counter("dispatch_dynamodb_retries_total", "DynamoDB attempts botocore repeated (throttling, 5xx, network)")
_throttles = counter("dispatch_dynamodb_throttles_total", "DynamoDB answers that were throttling errors")


def _count_retries(parsed: dict | None = None, **_: Any) -> None:
    # after-call runs for successes and error answers alike, once per call, with the attempts it took.
    _retries.inc((parsed or {}).get("ResponseMetadata", {}).get("RetryAttempts", 0))


def _count_throttles(response: tuple | None = None, **_: Any) -> None:
    # needs-retry runs once per attempt, so every throttled attempt counts, retried or not.
    if response is not None and response[1].get("Error", {}).get("Code") in THROTTLING_CODES:
        _throttles.inc()


def _instrumented(boto_client: Any) -> Any:
    events = boto_client.meta.events
    events.register("after-call.dynamodb", _count_retries)
    events.register("needs-retry.dynamodb", _count_throttles)
    return boto_client


def config(settings: Settings) -> Config:
    return Config(
        region_name=settings.aws_region,
        retries={"mode": "standard", "max_attempts": settings.aws_max_attempts},
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        s3={"addressing_style": "path"},
        # The writing lanes, the lease renewer and the reads of other requests on the same worker.
        max_pool_connections=max(settings.aws_write_concurrency * 2, 10),
    )


def client(service: str, settings: Settings) -> Any:
    return _instrumented(
        boto3.session.Session().client(service, endpoint_url=settings.aws_endpoint_url, config=config(settings))
    )


def resource(service: str, settings: Settings) -> Any:
    made = boto3.session.Session().resource(service, endpoint_url=settings.aws_endpoint_url, config=config(settings))
    _instrumented(made.meta.client)
    return made


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def unavailable(what: str) -> Unavailable:
    return Unavailable(f"{what} is unavailable; retry later (the same request completes once).")


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """AWS failures that mean "try later" become 503 with Retry-After; anything else propagates."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in RETRY_LATER_CODES or exc.response.get("ResponseMetadata", {}).get(
            "HTTPStatusCode", 0
        ) in (500, 502, 503, 504):
            log.warning("%s %s answered %s after retries", what, exc.operation_name, error_code(exc) or exc.response)
            raise unavailable(what) from exc
        raise
    except StorageError as exc:
        # packages/storage wraps botocore's errors; an unreachable endpoint is still an outage.
        cause = exc.__cause__
        if cause is not None and (
            dependency_unavailable(cause) or (isinstance(cause, ClientError) and error_code(cause) in RETRY_LATER_CODES)
        ):
            raise unavailable(what) from exc
        raise
