"""gunicorn settings of bakery-service: the suite's shared ones, on port 8004."""

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("bakery-service", default_port=8004))
wsgi_app = "bakery_service:create_app()"

__all__ = ["child_exit"]
