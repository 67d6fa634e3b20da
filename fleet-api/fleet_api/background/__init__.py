"""What runs beside requests, each part with ``start()`` and ``close()`` for a servicekit Lifecycle:
the demo user's seeding and the token-version keeper in every web worker (wiring.background), the outbox
relay in its own process (``python -m fleet_api.relay``)."""
