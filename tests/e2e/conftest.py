"""One local stack for every end-to-end test of the session: `make e2e` (or `make test`) starts it on the
stack's fixed ports under `flock /tmp/suite-localstack.lock`, the tests run against it, and it is torn down
with no process left behind."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests
from test_local_stack_faults import running_local_stack

sys.path.insert(0, str(Path(__file__).parent))  # e2e_support, a name of its own

from e2e_support import login, secrets_found_in_logs  # noqa: E402


@pytest.fixture(scope="session")
def stack():
    def no_secret_in_the_logs(state_dir: Path) -> None:
        leaks = secrets_found_in_logs(state_dir)
        assert not leaks, leaks

    # A loaded 2-core machine has taken over 2 minutes to boot the six services' workers.
    with running_local_stack("suite-e2e-", up_timeout=240, before_down=no_secret_in_the_logs) as running:
        yield running


@pytest.fixture(scope="session")
def token(stack) -> str:
    return login()


@pytest.fixture()
def http(token) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session
