"""loadboard-sim reads bodies as the services do: its login forms and /_sim/faults refuse a body past 1 MiB
with 413 problem+json however it is framed, as its OpenAPI document says.

Failed on the tree before (checked there): the simulator had no body limit, so 50 MB forms were read whole
and a chunked /_sim/faults body past the limit was parsed; its 404s were HTML.
"""

from __future__ import annotations

import gzip
import io
import json

import pytest
from loadboard_sim import create_app
from loadboard_sim.settings import SimSettings

LIMIT = 1_048_576  # SIM_MAX_CONTENT_LENGTH's default, as documented


@pytest.fixture()
def client():
    return create_app(SimSettings()).test_client()


def send(client, path: str, body: bytes, content_type: str, framing: str):
    headers = {"Content-Type": content_type}
    if framing == "chunked":
        # As gunicorn hands a chunked body over: no length that counts, a stream that ends by itself.
        headers["Transfer-Encoding"] = "chunked"
        return client.post(
            path,
            input_stream=io.BytesIO(body),
            headers=headers,
            environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
        )
    if framing == "gzip":
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body)
    return client.post(path, data=body, headers=headers)


@pytest.mark.parametrize("framing", ["length", "chunked", "gzip"])
@pytest.mark.parametrize(
    "path, content_type, head",
    [
        ("/_sim/faults", "application/json", b'{"portal": "jbhunt", "fault": "500"}'),
        ("/jbhunt/login", "application/x-www-form-urlencoded", b"username=a&password=b"),
        ("/landstar/Account/Login", "application/x-www-form-urlencoded", b"UserName=a&Password=b"),
    ],
    ids=["faults", "jbhunt-login", "landstar-login"],
)
def test_a_body_past_the_limit_is_a_413_problem(client, path, content_type, head, framing) -> None:
    body = head + b" " * (LIMIT + 1 - len(head))
    response = send(client, path, body, content_type, framing)
    assert response.status_code == 413, response.get_data()[:200]
    assert response.mimetype == "application/problem+json"
    operation = create_app(SimSettings()).test_client().get("/openapi.json").get_json()["paths"][path]["post"]
    assert "413" in operation["responses"]


def test_a_repeated_key_in_a_fault_is_400_and_an_unknown_route_is_a_404_problem(client) -> None:
    raw = b'{"portal": "jbhunt", "fault": "500", "portal": "landstar"}'
    refused = client.post("/_sim/faults", data=raw, content_type="application/json")
    assert refused.status_code == 400 and json.loads(refused.data)["title"] == "Duplicate key in JSON"
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
