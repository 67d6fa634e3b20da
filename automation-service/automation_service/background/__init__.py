"""What runs beside requests in each web worker, each part with ``start()`` and ``close()`` for the servicekit
Lifecycle that create_app starts (wiring.background): the warm browser, the run executor and, with
SCHEDULE_INTERVAL_SECONDS, the run schedule."""
