"""A pytest plugin: a real SMTP server with an inbox (MailDev 3, from npm), once per test session.

Loaded through ``-p testkit.maildev``. ``make test-tools`` installs MailDev into ``.tools/maildev``; the
binary is taken from there, from ``MAILDEV_BIN`` or from PATH. Without it the tests that need it are skipped
with the command that installs it, except under CI (``CI`` set), where a missing MailDev is a failure.
``TEST_MAILDEV_URL`` + ``TEST_MAILDEV_SMTP_PORT`` use a MailDev that is already running instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from .servers import free_port, skip_server_in_unit_runs, start_process, stop_process

INSTALL = "make test-tools (npm install --prefix .tools/maildev --no-audit --no-fund maildev@3.0.0)"


@dataclass(frozen=True)
class MailDev:
    """A running MailDev: send to ``smtp_host:smtp_port``, read what arrived through its REST API."""

    smtp_host: str
    smtp_port: int
    web_url: str
    directory: str | None = None  # where this MailDev keeps its messages; removed when it stops

    def messages(self) -> list[dict[str, Any]]:
        """Every message received, oldest first (``GET /api/email``: subject, from, to, text, headers...)."""
        response = requests.get(f"{self.web_url}/api/email", timeout=5)
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()
        return messages

    def messages_to(self, address: str) -> list[dict[str, Any]]:
        return [m for m in self.messages() if any(to.get("address") == address for to in m.get("to") or [])]

    def wait_for(self, address: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The messages to ``address`` once there are ``count`` of them (MailDev stores a message just after
        the SMTP transaction ends)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages_to(address)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def clear(self) -> None:
        requests.delete(f"{self.web_url}/api/email/all", timeout=5).raise_for_status()


def maildev_binary(root: Path) -> str | None:
    candidates = [os.environ.get("MAILDEV_BIN"), str(root / ".tools/maildev/node_modules/.bin/maildev")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("maildev")


def start_maildev(binary: str, *extra_args: str, timeout: float = 30.0) -> tuple[subprocess.Popen[bytes], MailDev]:
    """Start MailDev on free ports of 127.0.0.1, with a message folder of its own (its default folder is shared by
    every MailDev on the machine); returns once ``/api/healthz`` answers. Stop it with ``stop_maildev``."""
    smtp_port, web_port = free_port(), free_port()
    directory = tempfile.mkdtemp(prefix="maildev-")
    cmd = [binary, "--smtp", str(smtp_port), "--web", str(web_port), "--ip", "127.0.0.1", "--web-ip", "127.0.0.1"]
    cmd += ["--mail-directory", directory, "--silent", *extra_args]
    try:
        proc = start_process(cmd, port=web_port, timeout=timeout)
    except Exception:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    server = MailDev("127.0.0.1", smtp_port, f"http://127.0.0.1:{web_port}", directory)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{server.web_url}/api/healthz", timeout=2).ok:
                return proc, server
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_maildev(proc, server)
            raise TimeoutError(f"MailDev did not become healthy within {timeout:.0f}s")
        time.sleep(0.05)


def stop_maildev(proc: subprocess.Popen[bytes], server: MailDev) -> None:
    stop_process(proc)
    if server.directory:
        shutil.rmtree(server.directory, ignore_errors=True)


def _require_binary(config: pytest.Config) -> str:
    binary = maildev_binary(config.rootpath)
    if binary is None:
        message = f"MailDev is not installed: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def maildev_binary_path(pytestconfig: pytest.Config) -> str:
    return _require_binary(pytestconfig)


@pytest.fixture(scope="session")
def maildev_server(pytestconfig: pytest.Config) -> Iterator[MailDev]:
    """One MailDev for the session (no SMTP authentication)."""
    skip_server_in_unit_runs(pytestconfig, "MailDev")
    if os.environ.get("TEST_MAILDEV_URL"):
        yield MailDev("127.0.0.1", int(os.environ["TEST_MAILDEV_SMTP_PORT"]), os.environ["TEST_MAILDEV_URL"])
        return
    proc, server = start_maildev(_require_binary(pytestconfig))
    try:
        yield server
    finally:
        stop_maildev(proc, server)


@pytest.fixture()
def maildev(maildev_server: MailDev) -> MailDev:
    """The session's MailDev with an empty inbox."""
    maildev_server.clear()
    return maildev_server
