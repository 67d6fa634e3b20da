"""One adapter per load board; ``build_portals`` makes the ones the settings switch on."""

from __future__ import annotations

from ... import metrics
from ...domain.run_outcome import FAILURE_KINDS
from ...settings import Settings
from .base import Credentials, Portal
from .jbhunt import JBHuntPortal
from .landstar import LandstarPortal

ADAPTERS: dict[str, type[Portal]] = {"jbhunt": JBHuntPortal, "landstar": LandstarPortal}
# Every portal's counts start at zero, so Prometheus' increase() counts a run's first loads (and first
# failure, first retry) too.
for _name in ADAPTERS:
    metrics.LOADS_EXTRACTED.labels(_name)
    metrics.PAGE_SECONDS.labels(_name)
    for _target in ("login", "navigation"):
        metrics.RETRIES.labels(_name, _target)
    for _kind in FAILURE_KINDS:
        metrics.BROWSER_FAILURES.labels(_name, _kind)


def build_portals(settings: Settings) -> list[Portal]:
    portals = []
    for name in settings.portal_names():
        if name not in ADAPTERS:
            raise ValueError(f"unknown portal {name!r}; known: {', '.join(ADAPTERS)}")
        url = getattr(settings, f"{name}_url")
        credentials = Credentials(
            getattr(settings, f"{name}_username"), getattr(settings, f"{name}_password").get_secret_value()
        )
        portals.append(
            ADAPTERS[name](
                url,
                credentials,
                timeout_ms=settings.navigation_timeout_ms,
                max_pages=settings.max_pages,
                layout_timeout_ms=settings.layout_timeout_ms,
            )
        )
    return portals


__all__ = ["ADAPTERS", "Credentials", "Portal", "build_portals"]
