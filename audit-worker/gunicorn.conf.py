"""gunicorn settings of audit-worker: the suite's shared ones, on port 8005."""

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("audit-worker", default_port=8005))
wsgi_app = "audit_worker:create_app()"

__all__ = ["child_exit"]
