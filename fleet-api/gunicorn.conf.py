"""gunicorn settings of fleet-api: the suite's shared ones, on port 8001."""

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("fleet-api", default_port=8001))
wsgi_app = "fleet_api:create_app()"

__all__ = ["child_exit"]
