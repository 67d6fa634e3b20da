"""Which packages a driver may carry: every rule the driver has must hold; a rule it lacks is not checked.

| rule | a package passes when | unit |
| --- | --- | --- |
| `regions` | its `region` is in the list (an empty list allows none) | – |
| `max_weight` | `weight <= max_weight` | kg |
| `temperature_control` | `true`: always; `false`: the package is not `perishable` | – |
| `hazmat_classes` | its `hazmat_class` is null (not dangerous goods) or in the list | – |
| `max_volume` | `volume <= max_volume` | litres |
| `max_distance` | `distance <= max_distance` | km |

The check runs on whole columns (numpy) so that one driver against 200,000 packages is a handful of vector
operations; `may_carry` is the same check for a single pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .models import Package, Rules


@dataclass(frozen=True)
class PackageTable:
    """The packages' attributes as columns; regions and hazmat classes as codes into their vocabularies."""

    weight: np.ndarray
    volume: np.ndarray
    distance: np.ndarray
    perishable: np.ndarray
    region: np.ndarray
    hazmat: np.ndarray  # -1: not dangerous goods
    regions: dict[str, int]
    hazmat_classes: dict[str, int]

    def __len__(self) -> int:
        return len(self.weight)

    @classmethod
    def of(cls, packages: Sequence[Package]) -> PackageTable:
        regions: dict[str, int] = {}
        hazmat: dict[str, int] = {}
        return cls(
            weight=np.fromiter((p.weight for p in packages), np.float64, len(packages)),
            volume=np.fromiter((p.volume for p in packages), np.float64, len(packages)),
            distance=np.fromiter((p.distance for p in packages), np.float64, len(packages)),
            perishable=np.fromiter((p.perishable for p in packages), np.bool_, len(packages)),
            region=np.fromiter((regions.setdefault(p.region, len(regions)) for p in packages), np.int32, len(packages)),
            hazmat=np.fromiter(
                (-1 if p.hazmat_class is None else hazmat.setdefault(p.hazmat_class, len(hazmat)) for p in packages),
                np.int32,
                len(packages),
            ),
            regions=regions,
            hazmat_classes=hazmat,
        )

    def take(self, indices: np.ndarray) -> PackageTable:
        return PackageTable(
            weight=self.weight[indices],
            volume=self.volume[indices],
            distance=self.distance[indices],
            perishable=self.perishable[indices],
            region=self.region[indices],
            hazmat=self.hazmat[indices],
            regions=self.regions,
            hazmat_classes=self.hazmat_classes,
        )


def _codes(names: Sequence[str], vocabulary: dict[str, int]) -> list[int]:
    return [vocabulary[name] for name in names if name in vocabulary]


def eligible_mask(rules: Rules, table: PackageTable) -> np.ndarray:
    """One boolean per package: may a driver with these rules carry it?"""
    mask = np.ones(len(table), dtype=np.bool_)
    if rules.regions is not None:
        mask &= np.isin(table.region, _codes(rules.regions, table.regions))
    if rules.max_weight is not None:
        mask &= table.weight <= rules.max_weight
    if rules.temperature_control is False:
        mask &= ~table.perishable
    if rules.hazmat_classes is not None:
        mask &= (table.hazmat < 0) | np.isin(table.hazmat, _codes(rules.hazmat_classes, table.hazmat_classes))
    if rules.max_volume is not None:
        mask &= table.volume <= rules.max_volume
    if rules.max_distance is not None:
        mask &= table.distance <= rules.max_distance
    return mask


def may_carry(rules: Rules, package: Package) -> bool:
    return bool(eligible_mask(rules, PackageTable.of([package]))[0])
