"""DynamoDB retries and throttles are counted from what a real botocore client sees over HTTP: a local
server answers throttling errors, then success."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from dispatch_service.adapters import aws
from dispatch_service.settings import Settings
from prometheus_client import REGISTRY
from werkzeug import Response

THROTTLED = Response(
    json.dumps(
        {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "message": "slow"}
    ),
    status=400,
    content_type="application/x-amz-json-1.0",
)


def value(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


@pytest.fixture()
def dynamodb(httpserver, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    settings = Settings(jwt_secret="x" * 32, aws_endpoint_url=httpserver.url_for("/"), aws_max_attempts=3)
    return aws.client("dynamodb", settings)


def test_throttled_attempts_and_the_retries_they_cost_are_counted(httpserver, dynamodb):
    retries, throttles = value("dispatch_dynamodb_retries_total"), value("dispatch_dynamodb_throttles_total")
    httpserver.expect_ordered_request("/", method="POST").respond_with_response(THROTTLED)
    httpserver.expect_ordered_request("/", method="POST").respond_with_response(THROTTLED)
    httpserver.expect_ordered_request("/", method="POST").respond_with_json(
        {"TableNames": []}, content_type="application/x-amz-json-1.0"
    )
    assert dynamodb.list_tables()["TableNames"] == []
    assert value("dispatch_dynamodb_throttles_total") - throttles == 2
    assert value("dispatch_dynamodb_retries_total") - retries == 2


def test_a_call_throttled_to_the_end_counts_every_attempt(httpserver, dynamodb):
    retries, throttles = value("dispatch_dynamodb_retries_total"), value("dispatch_dynamodb_throttles_total")
    httpserver.expect_request("/", method="POST").respond_with_response(THROTTLED)
    with pytest.raises(ClientError):
        dynamodb.list_tables()
    # botocore's max_attempts counts retries: the first attempt and three more.
    assert value("dispatch_dynamodb_throttles_total") - throttles == 4
    assert value("dispatch_dynamodb_retries_total") - retries == 3


def test_a_clean_call_counts_nothing(httpserver, dynamodb):
    retries, throttles = value("dispatch_dynamodb_retries_total"), value("dispatch_dynamodb_throttles_total")
    httpserver.expect_request("/", method="POST").respond_with_json(
        {"TableNames": ["t"]}, content_type="application/x-amz-json-1.0"
    )
    assert dynamodb.list_tables()["TableNames"] == ["t"]
    assert (value("dispatch_dynamodb_retries_total"), value("dispatch_dynamodb_throttles_total")) == (
        retries,
        throttles,
    )
