"""The servicekit reference endpoint under the gunicorn settings fleet-api uses."""

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("bench-servicekit", default_port=8102))
wsgi_app = "servicekit_app:app"

__all__ = ["child_exit"]
