"""Every dispatch operation, fuzzed from /openapi.json on moto's real server, keeps to its document: no 5xx,
only declared statuses and content types, bodies that match the declared schemas, bad input refused."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.integration
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
NOT_FUZZED = {"/readyz"}  # 503 while a dependency is down is its contract; tested in test_readiness.py


def test_every_operation_keeps_to_its_document(app, headers, upload):
    from dispatch_support import DAY, package

    upload({"drivers": [{"driver_id": "driver_1"}], "packages": [package("p1")]}, DAY)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in NOT_FUZZED:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:800]}")
    assert not failures, "\n".join(failures)
