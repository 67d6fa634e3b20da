"""automation-service's dependencies, built once per process by ``create_app``, read by views through ``deps()``."""

from __future__ import annotations

from dataclasses import dataclass

import servicekit

from .adapters.postgres import LoadboardRepository
from .runner import RunManager
from .settings import Settings


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    repository: LoadboardRepository
    runs: RunManager


def build_dependencies(settings: Settings, *, artifact_files=None) -> Dependencies:
    """``artifact_files``: a storage.Storage for failure screenshots (None: the configured one, when needed).

    Starts the run schedule when ``SCHEDULE_INTERVAL_SECONDS`` is set: a start-up step of each worker
    (the database admits one running run however many workers schedule).
    """
    repository = LoadboardRepository(settings.database_url)
    runs = RunManager(settings, repository=repository, artifact_files=artifact_files)
    runs.start_schedule()
    return Dependencies(settings=settings, repository=repository, runs=runs)


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
