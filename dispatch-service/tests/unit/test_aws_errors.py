"""Which AWS failures become 503 with Retry-After (the rest propagate as they are)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from dispatch_service.adapters.aws import translated
from servicekit.domain_errors import Unavailable, status_of
from servicekit.errors import dependency_unavailable
from storage import StorageError


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem")


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("ResourceNotFoundException"),
        client_error("InternalServerError", 500),
        client_error("", 503),
    ],
)
def test_try_later_errors_become_503_with_retry_after(error):
    with pytest.raises(Unavailable) as caught, translated("DynamoDB"):
        raise error
    assert status_of(caught.value) == (503, "Service Unavailable")
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


def test_other_client_errors_propagate():
    with pytest.raises(ClientError), translated("DynamoDB"):
        raise client_error("ValidationException")


def test_an_unreachable_s3_behind_packages_storage_is_an_outage():
    with pytest.raises(Unavailable) as caught, translated("S3"):
        try:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        except EndpointConnectionError as exc:
            raise StorageError("put x") from exc
    assert status_of(caught.value)[0] == 503


def test_servicekit_answers_unreachable_endpoints_itself():
    # Connection errors pass through `translated` untouched: servicekit's handler turns them into 503.
    assert dependency_unavailable(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
