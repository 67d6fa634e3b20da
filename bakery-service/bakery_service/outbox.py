"""Writing an outside action into the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from servicekit.logs import current_request_id
from sqlalchemy.engine import Connection

from .adapters import postgres as pg


def add_action(conn: Connection, integration: str, action: str, payload: dict[str, Any]) -> int:
    # The request being served (or, for a follow-up action, the one the processor is sending for).
    return pg.enqueue(conn, integration, action, json.dumps(payload), current_request_id())
