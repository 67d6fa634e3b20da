"""Every end-to-end test runs against the session's one local stack (`local_stack` of tests/conftest.py):
`make e2e` (or `make test`) starts it on the stack's fixed ports under `flock /tmp/suite-localstack.lock`, and it
is torn down with no secret in its logs and no process left behind."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))  # e2e_support, a name of its own

from e2e_support import login  # noqa: E402


@pytest.fixture(scope="session")
def stack(local_stack):
    return local_stack


@pytest.fixture(scope="session")
def token(stack) -> str:
    return login()


@pytest.fixture()
def http(token) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session
