"""gunicorn settings of loadboard-sim (port 8010).

One worker: one-off faults armed through /_sim/faults live in the process. Threads keep a slow
page from blocking the other portal.
"""

import os

from servicekit.gunicorn_conf import transport_settings

# servicekit's worker (requests collected before a thread takes them, a read deadline, the Host check,
# problem+json refusals) and gunicorn's limits, as every service has them.
globals().update(transport_settings())
# All interfaces, so that a container is reachable; the local stack sets HOST=127.0.0.1.
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8010')}"  # nosec B104
workers = 1
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 120
wsgi_app = "loadboard_sim:create_app()"
accesslog = "-"
errorlog = "-"
