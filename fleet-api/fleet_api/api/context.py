"""The adapters a request needs, built once per process and reached through ``current_fleet()``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..adapters.cache import LoadsCache
from ..adapters.postgres import FleetRepository
from ..settings import Settings


@dataclass
class Fleet:
    settings: Settings
    repo: FleetRepository
    cache: LoadsCache
    demo_user_seeded: bool = False


def current_fleet() -> Fleet:
    return current_app.extensions["fleet"]
