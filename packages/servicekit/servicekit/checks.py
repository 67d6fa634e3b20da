"""Readiness checks for the dependencies the services share; drivers are imported only when used."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from .db import make_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

# A check's detail: numbers, flags and short labels that /readyz may show (servicekit.health).
Detail = dict[str, object]


@lru_cache(maxsize=16)
def engine_for(url: str) -> Engine:
    """One small pool per database URL for every readiness check of the process."""
    return make_engine(url, pool_size=1, max_overflow=0, pool_timeout=2, connect_timeout=2)


def postgres(url: str) -> Callable[[], Detail]:
    def check() -> Detail:
        from sqlalchemy import text

        with engine_for(url).connect() as conn:
            conn.execute(text("SELECT 1"))
        return {}

    return check


def redis(url: str) -> Callable[[], Detail]:
    def check() -> Detail:
        import redis as redis_lib

        client = redis_lib.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return {}

    return check


def dynamodb(endpoint_url: str | None, region: str) -> Callable[[], Detail]:
    def check() -> Detail:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(connect_timeout=2, read_timeout=2, retries={"max_attempts": 1}),
        )
        client.list_tables(Limit=1)
        return {}

    return check


def http(url: str) -> Callable[[], Detail]:
    def check() -> Detail:
        import requests

        response = requests.get(url, timeout=2)
        response.raise_for_status()
        return {}

    return check
