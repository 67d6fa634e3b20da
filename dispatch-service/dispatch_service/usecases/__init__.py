"""dispatch-service's use cases, one module per flow: functions taking a unit of work and the narrow ports they
need (a clock, settings values, the test checkpoint), never the wiring and never Flask.

They run the rules (domain/), the writes (``with uow: ... uow.commit()``), the metrics and the domain-event log
line; they refuse with servicekit.domain_errors, which servicekit answers as problem+json.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

#: The wall clock (an aware datetime, UTC).
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
