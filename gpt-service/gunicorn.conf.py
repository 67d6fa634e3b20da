"""gunicorn settings of gpt-service: the suite's shared ones, on port 8002."""

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("gpt-service", default_port=8002))
wsgi_app = "gpt_service:create_app()"

__all__ = ["child_exit"]
