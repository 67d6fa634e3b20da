"""R3: schemathesis, with every check it has, against each service's /openapi.json and loadboard-sim's.

Each service runs under its own gunicorn configuration against real backing servers (a migrated Postgres,
Redis, moto) and is attacked through its socket by schemathesis' command line, as an outsider would:
positive and negative data, server errors, status codes, content types, response headers and schemas,
unsupported methods, ignored auth. The number of examples per operation is bounded so that the whole run
stays within a couple of minutes on two cores; the seed is fixed so that a failure reproduces.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from servicekit import ServiceSettings, issue_token
from suite_support import ROOT, SERVICES, TEST_SECRET, offline_env
from testkit.servers import free_port, start_gunicorn, stop_process

pytestmark = pytest.mark.integration
MAX_EXAMPLES = 5
SEED = 20261130
# service -> (folder, gunicorn config)
TARGETS = {name: (name, "gunicorn.conf.py") for name in SERVICES} | {
    "loadboard-sim": ("automation-service", "gunicorn.loadboard-sim.conf.py")
}


@pytest.fixture(scope="module")
def live_env(migrated_db_url: str, redis_url: str, moto_url: str, make_httpserver) -> dict[str, str]:
    env = offline_env(free_port())
    # bakery-service's web page signs in through the suite's login: a stand-in that refuses every password.
    make_httpserver.expect_request("/auth/login", method="POST").respond_with_json(
        {"type": "about:blank", "title": "Unauthorized", "status": 401},
        status=401,
        content_type="application/problem+json",
    )
    env.update(
        {
            "DATABASE_URL": migrated_db_url,
            "REDIS_URL": redis_url,
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_DEFAULT_REGION": "us-east-1",
            "WEB_CONCURRENCY": "1",
            # Every dependency is up; a check slowed down by a busy machine must not read as "down".
            "READINESS_TIMEOUT_SECONDS": "15",
            # The simulator's fault switches answer 500 on purpose; the contract under test is the portals'.
            "SIM_CONTROL_ENABLED": "false",
            "AUTH_LOGIN_URL": make_httpserver.url_for("/auth/login"),
        }
    )
    return env


@pytest.mark.parametrize("target", list(TARGETS))
def test_schemathesis_with_every_check_finds_nothing(target: str, live_env: dict[str, str], tmp_path: Path) -> None:
    folder, config = TARGETS[target]
    port = free_port()
    env = {**live_env, "LOG_DIR": str(tmp_path / "logs"), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    proc = start_gunicorn(ROOT / folder, port=port, env=env, config=config)
    # An admin's token, so that fleet-api's admin routes read their bodies rather than refusing at once (403).
    token = issue_token(ServiceSettings(jwt_secret=TEST_SECRET), "schemathesis", claims={"role": "admin"})[0]
    try:
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--checks",
                "all",
                "--mode",
                "all",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                str(SEED),
                "--workers",
                "1",
                "--header",
                f"Authorization: Bearer {token}",
                "--request-timeout",
                "20",
                "--no-color",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        stop_process(proc)
    print(result.stdout[-3000:])
    (tmp_path.parent / f"schemathesis-{target}.txt").write_text(result.stdout)
    assert result.returncode == 0, f"{target}:\n{result.stdout[-12000:]}\n{result.stderr[-3000:]}"
