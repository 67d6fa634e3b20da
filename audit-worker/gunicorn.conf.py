"""gunicorn settings of audit-worker: the suite's shared ones, on port 8005.

With the in-memory store there is exactly one worker: the consumer thread and the HTTP endpoint
must share the memory that holds the trail.
"""

import os

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("audit-worker", default_port=8005))
if os.environ.get("AUDIT_STORE", "memory") == "memory":
    workers = 1
wsgi_app = "audit_worker:create_app()"

__all__ = ["child_exit"]
