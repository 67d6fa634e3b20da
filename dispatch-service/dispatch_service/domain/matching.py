"""The day's packages to drivers: a maximum b-matching, computed as a max-flow on a compressed graph.

Packages that exactly the same drivers may carry are interchangeable, so they become one node (an
*eligibility class*) whose capacity is their number. Two packages land in the same class when they fall
on the same side of every driver's limit and share region, hazmat class and perishability: that is
computed from a few columns (numpy), and only one representative per such signature is checked against
the drivers' rules. The network is then

    source --(packages in class)--> class --(packages in class)--> driver --(driver's capacity)--> sink

and scipy's compiled Dinic max-flow gives the largest number of packages that can be assigned. The graph
has one node per class rather than per package, which is orders of magnitude smaller on real days.

Tie-breaking (several maximum assignments usually exist) is deterministic: classes are numbered by their
first package in the manifest, drivers by their position in the request, and within a class the packages
are handed out in manifest order to the drivers in request order, each taking the flow Dinic sent it. The
same manifest, the same earlier claims and the same request always give the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from .models import Rules
from .rules import PackageTable, eligible_mask


@dataclass(frozen=True)
class EligibilityClasses:
    """Packages grouped by the exact set of drivers that may carry them."""

    package_class: np.ndarray  # class of each package, -1 when no driver may carry it
    eligible: np.ndarray  # classes x drivers, bool

    @property
    def count(self) -> int:
        return self.eligible.shape[0]

    def sizes(self) -> np.ndarray:
        assigned = self.package_class[self.package_class >= 0]
        return np.bincount(assigned, minlength=self.count).astype(np.int64)


def _threshold_bucket(values: np.ndarray, limits: list[float]) -> np.ndarray:
    # The number of limits below the value: equal buckets pass exactly the same `value <= limit` checks.
    if not limits:
        return np.zeros(len(values), dtype=np.int64)
    return np.searchsorted(np.unique(np.asarray(limits, dtype=np.float64)), values, side="left")


def classify(rules: Sequence[Rules], table: PackageTable) -> EligibilityClasses:
    n = len(table)
    if n == 0 or not rules:
        return EligibilityClasses(np.full(n, -1, dtype=np.int64), np.zeros((0, len(rules)), dtype=np.bool_))
    signature = np.column_stack(
        [
            _threshold_bucket(table.weight, [r.max_weight for r in rules if r.max_weight is not None]),
            _threshold_bucket(table.volume, [r.max_volume for r in rules if r.max_volume is not None]),
            _threshold_bucket(table.distance, [r.max_distance for r in rules if r.max_distance is not None]),
            table.region.astype(np.int64),
            table.hazmat.astype(np.int64),
            table.perishable.astype(np.int64),
        ]
    )
    _, first, signature_of = np.unique(signature, axis=0, return_index=True, return_inverse=True)
    signature_of = signature_of.reshape(-1)
    representatives = table.take(first)
    by_signature = np.column_stack([eligible_mask(r, representatives) for r in rules])
    # Signatures with the same drivers merge into one class.
    _, class_of_signature = np.unique(np.packbits(by_signature, axis=1), axis=0, return_inverse=True)
    class_of_signature = class_of_signature.reshape(-1)
    package_class = class_of_signature[signature_of]
    classes = int(class_of_signature.max()) + 1
    eligible = np.zeros((classes, len(rules)), dtype=np.bool_)
    eligible[class_of_signature] = by_signature
    # Renumber: classes in order of their first package in the manifest; drop classes no driver may carry.
    first_package = np.full(classes, n, dtype=np.int64)
    np.minimum.at(first_package, package_class, np.arange(n))
    carried = eligible.any(axis=1)
    order = [c for c in np.argsort(first_package, kind="stable") if carried[c]]
    renumber = np.full(classes, -1, dtype=np.int64)
    renumber[order] = np.arange(len(order))
    return EligibilityClasses(renumber[package_class], eligible[order])


def _class_members(classes: EligibilityClasses, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Available packages sorted by class (manifest order within a class) and where each class starts."""
    package_class = np.where(available, classes.package_class, -1)
    candidates = np.flatnonzero(package_class >= 0)
    ordered = candidates[np.argsort(package_class[candidates], kind="stable")]
    starts = np.searchsorted(package_class[ordered], np.arange(classes.count + 1), side="left")
    return ordered, starts


def maximum_assignment(
    classes: EligibilityClasses, capacity: Sequence[int], available: np.ndarray | None = None
) -> list[np.ndarray]:
    """Package indices per driver (request order), as many in total as any assignment can reach.

    `capacity[d]` is the most packages driver `d` may get; `available` masks packages already taken.
    """
    drivers = len(capacity)
    n = len(classes.package_class)
    available = np.ones(n, dtype=np.bool_) if available is None else available
    ordered, starts = _class_members(classes, available)
    sizes = np.diff(starts)
    result: list[np.ndarray] = [np.empty(0, dtype=np.int64) for _ in range(drivers)]
    if len(ordered) == 0 or drivers == 0:
        return result
    caps = np.minimum(np.asarray(capacity, dtype=np.int64), len(ordered))
    class_ids, driver_ids = np.nonzero(classes.eligible & (sizes > 0)[:, None] & (caps > 0)[None, :])
    if len(class_ids) == 0:
        return result
    c = classes.count
    source, sink = 0, c + drivers + 1
    rows = np.concatenate([np.zeros(c, dtype=np.int64), 1 + class_ids, 1 + c + np.arange(drivers)])
    cols = np.concatenate([1 + np.arange(c), 1 + c + driver_ids, np.full(drivers, sink)])
    caps_all = np.concatenate([sizes, sizes[class_ids], caps]).astype(np.int32)
    graph = csr_matrix((caps_all, (rows, cols)), shape=(sink + 1, sink + 1))
    graph.sort_indices()
    flow = maximum_flow(graph, source, sink, method="dinic").flow
    sent = np.asarray(flow[1 + class_ids, 1 + c + driver_ids]).reshape(-1)
    # Hand each class's packages out in manifest order to its drivers in request order.
    taken = starts[:-1].copy()
    pieces: list[list[np.ndarray]] = [[] for _ in range(drivers)]
    for cls, driver, amount in zip(class_ids.tolist(), driver_ids.tolist(), sent.tolist(), strict=True):
        if amount > 0:
            pieces[driver].append(ordered[taken[cls] : taken[cls] + amount])
            taken[cls] += amount
    for driver, parts in enumerate(pieces):
        if parts:
            result[driver] = np.sort(np.concatenate(parts))
    return result


def first_fit(
    classes: EligibilityClasses, capacity: Sequence[int], available: np.ndarray | None = None
) -> list[np.ndarray]:
    """The baseline: each driver in turn takes the first packages it may carry, in manifest order.

    Same eligibility classes as `maximum_assignment`; it can leave packages behind that a maximum assignment
    places (a driver takes a package that only another driver could have carried).
    """
    n = len(classes.package_class)
    free = np.ones(n, dtype=np.bool_) if available is None else available.copy()
    padded = np.vstack([classes.eligible, np.zeros((1, classes.eligible.shape[1]), dtype=np.bool_)])
    result = []
    for driver, cap in enumerate(capacity):
        mask = padded[classes.package_class, driver] & free
        chosen = np.flatnonzero(mask)[: max(cap, 0)]
        free[chosen] = False
        result.append(chosen)
    return result
