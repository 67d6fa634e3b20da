"""gunicorn settings of dispatch-service: the suite's shared ones, on port 8000."""

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("dispatch-service", default_port=8000))
wsgi_app = "dispatch_service:create_app()"

__all__ = ["child_exit"]
