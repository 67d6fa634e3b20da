"""The TypeScript relay task (packages/jobs/trigger/): it type-checks against the @trigger.dev/sdk types
(`tsc --noEmit`), and its relay code, compiled and run by Node, pushes to the real push endpoint exactly as
the push blueprint expects: signature, job id, attempt, attributes, and which answers abort the run.

`make test-tools` installs packages/jobs/trigger/node_modules (npm ci, from package-lock.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs import JobContext, PermanentJobError
from jobs.dispatcher import Dispatcher
from jobs.providers.inprocess import InProcessProvider
from jobs.push import TriggerRelayVerifier, push_blueprint
from jobs.registry import JobRegistry
from jobs_support import RELAY_SECRET, serve
from pydantic import BaseModel
from servicekit import ServiceSettings
from servicekit import create_app as servicekit_app

pytestmark = pytest.mark.integration
TASK = Path(__file__).resolve().parents[1] / "trigger"
TSC = TASK / "node_modules" / ".bin" / "tsc"


def _tools() -> None:
    if not TSC.exists() or shutil.which("node") is None:
        pytest.fail(f"Node and {TSC} are needed: run `make test-tools` (npm ci --prefix packages/jobs/trigger)")


def test_the_task_type_checks_against_the_trigger_dev_sdk() -> None:
    _tools()
    result = subprocess.run([str(TSC), "--noEmit", "-p", str(TASK)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    sdk = json.loads((TASK / "node_modules" / "@trigger.dev" / "sdk" / "package.json").read_text())
    assert sdk["version"].startswith("4.")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """src/relay.ts and src/signature.ts as ES modules Node can run (they do not need the Trigger.dev runtime)."""
    _tools()
    out = tmp_path_factory.mktemp("relay-js")
    result = subprocess.run(
        [str(TSC), "-p", str(TASK), "--outDir", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=TASK,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (out / "package.json").write_text('{"type": "module"}')
    return out


class Order(BaseModel):
    order_id: int


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[tuple[str, int, dict[str, str], int]]]]:
    handled: list[tuple[str, int, dict[str, str], int]] = []
    registry = JobRegistry()

    def handle(order: Order, ctx: JobContext) -> None:
        if order.order_id == 489:
            raise PermanentJobError("order was deleted")
        if order.order_id == 500:
            raise RuntimeError("database down")
        handled.append((ctx.id, ctx.attempt, dict(ctx.attributes), order.order_id))

    registry.register("bakery.batch", Order, handle)
    app = servicekit_app(ServiceSettings(jwt_secret="x" * 32, service_name="relay-ts"), import_name="relay_ts")
    app.register_blueprint(
        push_blueprint(Dispatcher(registry, InProcessProvider()), TriggerRelayVerifier(RELAY_SECRET))
    )
    url, stop = serve(app)
    yield url, handled
    stop()


def _run_relay(compiled: Path, job: dict, *, secret: str = RELAY_SECRET, attempt: int = 1) -> dict:
    script = f"""
import {{ relay, PushFailed }} from {json.dumps(str(compiled / "src" / "relay.js"))};
const job = {json.dumps(job)};
try {{
  const status = await relay(job, {{ secret: {json.dumps(secret)}, attempt: {attempt} }});
  console.log(JSON.stringify({{ status }}));
}} catch (error) {{
  if (!(error instanceof PushFailed)) throw error;
  console.log(JSON.stringify({{ failed: error.status, permanent: error.permanent, message: error.message }}));
}}
"""
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, cwd=compiled
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _job(url: str, order_id: int, job_id: str = "job-ts-1") -> dict:
    return {
        "url": f"{url}/jobs/bakery.batch",
        "id": job_id,
        "type": "bakery.batch",
        "payload": {"order_id": order_id, "note": "crème brûlée"},
        "attributes": ATTRIBUTES,
    }


# An underscore in a key, characters encodeURIComponent leaves alone and text beyond ASCII: the relay's
# headers and signature must give back exactly these.
ATTRIBUTES = {"source": "bakery-service", "request_id": "req-(1)!*'~ é/ü&=", "trigger.delay": "10s"}


def test_the_compiled_relay_pushes_what_the_push_endpoint_verifies(compiled: Path, receiver) -> None:
    url, handled = receiver
    assert _run_relay(compiled, _job(url, 7), attempt=2) == {"status": 200}
    assert handled == [("job-ts-1", 2, ATTRIBUTES, 7)]


def test_the_typescript_and_python_signatures_agree_byte_for_byte(compiled: Path) -> None:
    from jobs import relay_signature

    body = json.dumps({"order_id": 7, "note": "crème brûlée"}, separators=(",", ":"), ensure_ascii=False)
    script = f"""
import {{ signRelay, attributeHeader, encodeValue }} from {json.dumps(str(compiled / "src" / "signature.js"))};
const attributes = {json.dumps(ATTRIBUTES)};
console.log(JSON.stringify({{
  signature: signRelay(
    "secret-0123456789abcdef", "bakery.batch", "job-1", {json.dumps(body)}, attributes, 1796022000000
  ),
  headers: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [attributeHeader(k), encodeValue(v)])),
}}));
"""
    result = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    assert made["signature"] == relay_signature.sign(
        "secret-0123456789abcdef", "bakery.batch", "job-1", body.encode(), ATTRIBUTES, now=1796022000
    )
    assert made["headers"] == relay_signature.attribute_headers(ATTRIBUTES)


def test_the_compiled_relay_fails_the_attempt_or_aborts_as_the_answer_says(compiled: Path, receiver) -> None:
    url, handled = receiver
    retried = _run_relay(compiled, _job(url, 500))
    assert (retried["failed"], retried["permanent"]) == (500, False)
    aborted = _run_relay(compiled, _job(url, 489))
    assert (aborted["failed"], aborted["permanent"]) == (489, True)
    assert "order was deleted" in aborted["message"]
    refused = _run_relay(compiled, _job(url, 7), secret="not-the-relay-secret-0000")
    assert (refused["failed"], refused["permanent"]) == (401, False)
    assert handled == []
