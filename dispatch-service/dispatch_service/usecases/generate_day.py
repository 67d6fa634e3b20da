"""A generated day's lists (domain/generator.py: the same seed gives the same day), stored as the day's manifest
or handed back to be written to a file."""

from __future__ import annotations

import datetime as dt

from ..adapters.unit_of_work import DispatchUnitOfWork
from ..domain.generator import generate_day
from ..domain.models import Manifest, ManifestStored
from .store_manifest import store_manifest


def generated_lists(
    day: dt.date, drivers: int, packages: int, seed: int = 0, continuous_limits: bool = False
) -> Manifest:
    return generate_day(day, drivers, packages, seed, continuous_limits=continuous_limits)


def generate_and_store(
    uow: DispatchUnitOfWork, day: dt.date, drivers: int, packages: int, seed: int = 0, continuous_limits: bool = False
) -> ManifestStored:
    manifest = generated_lists(day, drivers, packages, seed, continuous_limits)
    return store_manifest(uow, day, manifest, source="generator")
