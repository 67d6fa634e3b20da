"""gunicorn settings of automation-service: the suite's shared ones, on port 8003."""

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("automation-service", default_port=8003))
wsgi_app = "automation_service:create_app()"

__all__ = ["child_exit"]
