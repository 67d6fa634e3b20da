"""The bare endpoint under the same settings with gunicorn's own threaded worker instead of servicekit's: what
servicekit's worker (requests collected before a thread takes them, the Host check) costs by itself."""

from servicekit.gunicorn_conf import child_exit, settings_for

globals().update(settings_for("bench-bare-gthread", default_port=8103))
worker_class = "gthread"
wsgi_app = "bare_app:app"

__all__ = ["child_exit"]
