"""schemathesis with every check against bakery-service's own document, on a real Postgres: what the document
accepts is accepted, what it refuses is refused, every status is documented, every answer fits its schema.

Content types are left to the suite-wide test: the shared document builder writes the problem+json of a
declared error status as application/json.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import content_type_conformance

pytestmark = pytest.mark.integration
EXAMPLES = 20


def test_every_operation_passes_every_check(make_settings, httpserver) -> None:
    from bakery_service import create_app
    from servicekit import issue_token

    httpserver.expect_request("/auth/login").respond_with_json({"title": "Unauthorized", "status": 401}, status=401)
    app = create_app(make_settings(auth_login_url=httpserver.url_for("/auth/login")))
    headers = {"Authorization": f"Bearer {issue_token(app.config['SETTINGS'], 'fuzz')[0]}"}
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/readyz":
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[content_type_conformance])

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - gather every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:800]}")
    assert not failures, "\n".join(failures)
