"""A day's lists as /assign reads them: the manifest parsed once per version, its packages as columns (rules),
and each id's position in its list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .models import Manifest
from .rules import PackageTable


@dataclass(frozen=True)
class DayLists:
    day: str
    version: str
    manifest: Manifest
    table: PackageTable
    driver_index: dict[str, int]
    package_index: dict[str, int]

    @classmethod
    def parse(cls, day: str, version: str, body: bytes) -> DayLists:
        """The stored lists read back; pydantic's ValidationError when they are not lists of ours."""
        manifest = Manifest.model_validate_json(body)
        return cls(
            day,
            version,
            manifest,
            PackageTable.of(manifest.packages),
            {d.driver_id: i for i, d in enumerate(manifest.drivers)},
            {p.package_id: i for i, p in enumerate(manifest.packages)},
        )

    def unknown_drivers(self, driver_ids: Sequence[str]) -> list[str]:
        return [d for d in driver_ids if d not in self.driver_index]
