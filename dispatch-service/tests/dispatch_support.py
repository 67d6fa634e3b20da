"""Helpers of dispatch-service's tests: a day, a package, the test secret."""

from __future__ import annotations

import datetime as dt

JWT_SECRET = "dispatch-test-secret-long-enough-for-hs256-0123456789"
DAY = dt.date(2026, 11, 30)


def package(package_id: str, **overrides) -> dict:
    base = {
        "package_id": package_id,
        "weight": 10.0,
        "volume": 20.0,
        "region": "north",
        "distance": 15.0,
        "perishable": False,
        "hazmat_class": None,
        "destination": f"{package_id} Main St",
    }
    return {**base, **overrides}
