"""A second reference: the same bytes from an endpoint of a servicekit app (request id, JWT check, access
log, Prometheus metrics), so the benchmark separates the suite's shared plumbing from the cache."""

import os
from pathlib import Path

from flask import Response
from servicekit import ServiceSettings, create_app, load_settings

BODY = Path(os.environ["BENCH_BODY_FILE"]).read_bytes()
app = create_app(load_settings(ServiceSettings, service_name="bench-servicekit"), import_name=__name__)


@app.get("/loads")
def loads() -> Response:
    return Response(BODY, mimetype="application/json")
