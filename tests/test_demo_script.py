"""scripts/test_endpoints.sh (`make demo`) logs in with the password of the stack it runs against.

Under compose fleet-api reads the random secrets/demo_user_password.txt, not fleet-api's default; before this
was fixed `make demo` against compose sent `demo-password` and stopped at a 401. A local HTTP server stands in
for fleet-api's login and records what the demo sent; a `docker` on PATH says whether compose runs fleet-api.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def login_recorder():
    """A fleet-api login that records each body and refuses it (the demo stops at its first step)."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = b'{"title": "Unauthorized", "status": 401}'
            self.send_response(401)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def run_demo(tmp_path: Path, fleet_url: str, compose_runs_fleet_api: bool, **env: str) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "test_endpoints.sh", checkout / "scripts")
    (checkout / "secrets").mkdir()
    (checkout / "secrets" / "demo_user_password.txt").write_text("0f3a9c-compose-secret")
    shim = checkout / "bin" / "docker"
    shim.parent.mkdir()
    answer = "echo 3f2a1b0c9d8e" if compose_runs_fleet_api else ":"
    shim.write_text(f'#!/bin/sh\ncase "$*" in "compose ps"*fleet-api*) {answer};; esac\nexit 0\n')
    shim.chmod(0o755)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DEMO_USER_")}
    subprocess.run(
        ["bash", str(checkout / "scripts" / "test_endpoints.sh")],
        env={**clean, "PATH": f"{shim.parent}:{os.environ['PATH']}", "FLEET_URL": fleet_url, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_against_compose_the_demo_logs_in_with_compose_s_secret(tmp_path, login_recorder):
    url, seen = login_recorder
    run_demo(tmp_path, url, compose_runs_fleet_api=True)
    assert seen and seen[0]["password"] == "0f3a9c-compose-secret"


def test_on_the_local_stack_the_demo_uses_fleet_api_s_default(tmp_path, login_recorder):
    url, seen = login_recorder
    run_demo(tmp_path, url, compose_runs_fleet_api=False)
    assert seen and seen[0]["password"] == "demo-password"


def test_a_password_or_its_file_given_wins(tmp_path, login_recorder):
    url, seen = login_recorder
    secret = tmp_path / "given.txt"
    secret.write_text("from-a-file")
    run_demo(tmp_path / "a", url, compose_runs_fleet_api=True, DEMO_USER_PASSWORD_FILE=str(secret))
    run_demo(tmp_path / "b", url, compose_runs_fleet_api=True, DEMO_USER_PASSWORD="given")
    assert [s["password"] for s in seen] == ["from-a-file", "given"]
