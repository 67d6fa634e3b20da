"""R3: schemathesis fuzzes every operation of every service's OpenAPI document; no answer may be a 5xx.

The services run in-process (WSGI) against real backing servers (a migrated Postgres, Redis, moto), with a
valid token, so the generated requests reach the handlers rather than stopping at the auth guard.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from servicekit import issue_token
from suite_support import SERVICES, build, offline_env
from testkit.servers import free_port

pytestmark = pytest.mark.integration
EXAMPLES = 12
# /readyz answers 503 by contract while a dependency is down; its other behaviour is tested elsewhere.
NOT_FUZZED = {"/readyz"}


@pytest.fixture(scope="module")
def live_env(migrated_db_url: str, redis_url: str, moto_url: str, make_httpserver) -> dict[str, str]:
    env = offline_env(free_port())
    env.update({"DATABASE_URL": migrated_db_url, "REDIS_URL": redis_url, "AWS_ENDPOINT_URL": moto_url})
    # bakery-service's web page signs in through the suite's login: a stand-in that refuses every password.
    make_httpserver.expect_request("/auth/login", method="POST").respond_with_json(
        {"title": "Unauthorized", "status": 401}, status=401, content_type="application/problem+json"
    )
    env["AUTH_LOGIN_URL"] = make_httpserver.url_for("/auth/login")
    return env


@pytest.mark.parametrize("service", list(SERVICES))
def test_no_operation_answers_5xx(service: str, live_env: dict[str, str], monkeypatch) -> None:
    for key, value in live_env.items():
        monkeypatch.setenv(key, value)
    app = build(service, live_env)
    headers = {"Authorization": f"Bearer {issue_token(app.config['SETTINGS'], 'schemathesis')[0]}"}
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in NOT_FUZZED:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - gather every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert not failures, "\n".join(failures)
