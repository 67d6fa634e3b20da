"""The bare endpoint under exactly the gunicorn settings fleet-api uses (servicekit's shared ones)."""

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("bench-bare", default_port=8101))
wsgi_app = "bare_app:app"

__all__ = ["child_exit"]
