"""How a page of loads is named in the cache: one canonical key per distinct query."""

from __future__ import annotations

from .models import LoadListQuery


def cache_key_part(query: LoadListQuery) -> str:
    """Equal queries give equal keys whatever the order or spelling of the query string."""
    return f"status={query.status or '*'}&limit={query.limit}&offset={query.offset}"
