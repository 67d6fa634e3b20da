"""The P1 reference: a bare Flask endpoint returning the bytes of a warm ``GET /loads``, nothing else.

``BENCH_BODY_FILE`` names the file holding the bytes (written by bench/fleet_loads.py).
"""

import os
from pathlib import Path

from flask import Flask, Response

BODY = Path(os.environ["BENCH_BODY_FILE"]).read_bytes()
app = Flask(__name__)


@app.get("/loads")
def loads() -> Response:
    return Response(BODY, mimetype="application/json")
