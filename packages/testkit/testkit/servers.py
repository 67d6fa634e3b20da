"""A pytest plugin that starts the real servers the tests need, once per test session.

Loaded for every test run through ``-p testkit.servers``. Each fixture starts its server
lazily, only when a test asks for it, on a free port on 127.0.0.1, and stops it at the end. A
server given through the environment (``TEST_POSTGRES_URL``, ``TEST_REDIS_URL``, ``TEST_MOTO_URL``)
is used instead of starting one.

A test that uses one of these servers, directly or through another fixture, is an integration test whatever
its file says: it gets the ``integration`` mark, so ``-m "not integration"`` (``make check``) runs no test that
starts a server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
# The session fixtures that start a server process (maildev_server is testkit.maildev's).
SERVER_FIXTURES = frozenset({"postgres_url", "redis_url", "moto_url", "maildev_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def skip_server_in_unit_runs(config: pytest.Config, server: str) -> None:
    """A test that asks for a server only while it runs (``request.getfixturevalue``) escapes the mark: in a run
    without integration tests it is skipped, with the reason shown, rather than served."""
    if "not integration" in (config.option.markexpr or ""):
        pytest.skip(f"needs {server}, so it is an integration test (make test runs it)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # Postgres refuses to run as root; the cluster is owned by the postgres user instead.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PostgresCluster:
    """A throwaway cluster: initdb into a temporary folder, start, stop, delete."""

    def __init__(self) -> None:
        if not PG_BIN_CANDIDATES:
            raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql (run make setup)")
        self.bin = PG_BIN_CANDIDATES[0]
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.data = self.dir / "data"

    def start(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            _as_postgres_user(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
            # As every cluster of the suite: error lines name the constraint, never a row's values.
            " -c log_error_verbosity=terse"
        )
        subprocess.run(
            _as_postgres_user(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.dir / "log"), "-o", opts, "start"]
            ),
            check=True,
            capture_output=True,
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(
            _as_postgres_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a real, empty PostgreSQL server (database ``postgres``)."""
    skip_server_in_unit_runs(request.config, "Postgres")
    if os.environ.get("TEST_POSTGRES_URL"):
        yield os.environ["TEST_POSTGRES_URL"]
        return
    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def start_process(
    cmd: list[str],
    *,
    port: int,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    stdout: int | IO[bytes] = subprocess.DEVNULL,
    timeout: float = 30.0,
) -> subprocess.Popen[bytes]:
    """Start a server process and return once it listens on ``port`` (killed if it never does)."""
    exe = shutil.which(cmd[0]) or cmd[0]
    if not Path(exe).exists():
        raise RuntimeError(f"{cmd[0]} is not installed (run make setup)")
    proc = subprocess.Popen(
        [exe, *cmd[1:]],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=subprocess.STDOUT if stdout is not subprocess.DEVNULL else subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout, proc)
    except Exception:
        proc.kill()
        raise
    return proc


def start_gunicorn(
    service_dir: str | Path,
    *,
    port: int,
    env: dict[str, str],
    config: str = "gunicorn.conf.py",
    ready_path: str = "/healthz",
    timeout: float = 90.0,
    stdout: int | IO[bytes] = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """A service as it runs in the stack: gunicorn with its own config, returned once ``ready_path`` is 200.

    gunicorn listens before its workers have imported the app, so the port alone does not mean ready.
    """
    import requests

    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = start_process(
        [gunicorn, "-c", config],
        port=port,
        cwd=service_dir,
        stdout=stdout,
        env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env},
        timeout=timeout,
    )
    url = f"http://127.0.0.1:{port}{ready_path}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            raise TimeoutError(f"{service_dir}: {url} did not answer 200 within {timeout:.0f}s")
        time.sleep(0.1)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a real Redis server (no persistence)."""
    skip_server_in_unit_runs(request.config, "Redis")
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    port = free_port()
    proc = start_process(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port=port
    )
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def moto_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Endpoint URL of the suite's AWS twin (moto's server with DynamoDB's atomicity: testkit.aws_twin)."""
    skip_server_in_unit_runs(request.config, "the AWS twin")
    if os.environ.get("TEST_MOTO_URL"):
        yield os.environ["TEST_MOTO_URL"]
        return
    port = free_port()
    proc = start_process([sys.executable, "-m", "testkit.aws_twin", "-H", "127.0.0.1", "-p", str(port)], port=port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


@pytest.fixture()
def aws_env(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Dummy credentials and a region, so boto3 talks to moto and never to AWS."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_url,
    }.items():
        monkeypatch.setenv(key, value)
    return moto_url
