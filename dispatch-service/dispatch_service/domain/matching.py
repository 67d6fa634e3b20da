"""The day's packages to drivers: a maximum b-matching, computed as a max-flow on a compressed graph.

Packages that exactly the same drivers may carry are interchangeable, so they become one node (an
*eligibility class*) whose capacity is their number. Two packages share a *signature* when they fall on the
same side of every driver's limit (weight, volume, distance) and share region, hazmat class and
perishability; signatures with the same drivers merge into one class. The network is then

    source --(packages in class)--> class --(packages in class)--> driver --(driver's capacity)--> sink

solved by scipy's compiled Dinic max-flow.

Which drivers may carry a class is one bit per driver, computed without comparing every package with every
driver: the threshold rules are nested (a package under a higher limit passes every lower limit too), so for
each dimension the drivers whose limit reaches a bucket form a bitset that is one cumulative OR of the
drivers sorted by limit, and a signature's drivers are the AND of three such bitsets and the bitset of the
drivers accepting its region, hazmat class and perishability. That costs a few machine words per signature
(drivers / 64) instead of a pair per (class, driver).

When the pairs are few (generated days: vehicle classes with a handful of standard limits) every pair is an
edge and the flow is the maximum by construction. When they are many (every driver its own continuous
limits: nearly one class per package, hundreds of drivers each), the flow is first solved on a subgraph
(every pair of the classes that few drivers may carry, a fixed number of pairs of the others) and then
*certified*: a search of the residual network over the full eligibility bitsets, which either finds an
augmenting path (the flow is raised along it and the search repeats) or proves, by the max-flow/min-cut
theorem, that no assignment places more packages. Either way the answer is the maximum.

Tie-breaking (several maximum assignments usually exist) is deterministic, and exactly this: classes are
numbered by their first package in the manifest; the flow decides how many packages of each class each
driver gets; within a class the earliest packages in manifest order are the ones placed, handed out to its
drivers in request order. So a package left unassigned has no later package of its own class placed. Across
classes nothing is promised: a later package of one class may be placed while an earlier package of another
class is left, even where the two could be swapped. The same manifest, the same earlier assignments and the
same request always give the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from .models import Rules
from .rules import PackageTable

# Up to this many (class, driver) pairs, every pair is an edge of scipy's flow network; beyond, the flow is
# built on the bitsets themselves (greedy start, then augmenting paths until none is left).
FULL_GRAPH_PAIRS = 4_000_000
# The default memory budget of one computation's eligibility structures (see `estimate_bytes`).
DEFAULT_MEMORY_BUDGET = 1024**3
_CHUNK = 16_384  # signatures per block while building bitsets: bounds the temporaries


class DayTooLarge(Exception):
    """The eligibility structures of this day and these drivers would exceed the memory budget."""

    def __init__(self, needed: int, budget: int, signatures: int, drivers: int):
        super().__init__(f"{needed} bytes needed, budget {budget}")
        self.needed, self.budget, self.signatures, self.drivers = needed, budget, signatures, drivers


@dataclass(frozen=True)
class EligibilityClasses:
    """Packages grouped by the exact set of drivers that may carry them."""

    package_class: np.ndarray  # class of each package, -1 when no driver may carry it
    rows: np.ndarray  # classes x ceil(drivers / 64) uint64: bit d of row c set when driver d may carry class c
    drivers: int

    @property
    def count(self) -> int:
        return self.rows.shape[0]

    def sizes(self, available: np.ndarray | None = None) -> np.ndarray:
        chosen = self.package_class if available is None else np.where(available, self.package_class, -1)
        return np.bincount(chosen[chosen >= 0], minlength=self.count).astype(np.int64)

    @property
    def eligible(self) -> np.ndarray:
        """classes x drivers, bool (unpacked: for small days and tests)."""
        return _unpack(self.rows, self.drivers)

    def pairs(self) -> int:
        """Number of (class, driver) pairs: the edges a plain class graph would have."""
        return int(np.bitwise_count(self.rows).sum())

    def may_carry(self, driver: int) -> np.ndarray:
        """One bool per class: may `driver` carry it?"""
        return ((self.rows[:, driver >> 6] >> np.uint64(driver & 63)) & np.uint64(1)).astype(np.bool_)


def estimate_bytes(signatures: int, drivers: int, packages: int) -> int:
    """Peak memory of `classify` and `maximum_assignment` beyond the lists themselves: four signature-by-driver
    bitsets (the signatures', the merged classes', the copy masked by capacity and its transpose), the
    largest explicit flow network scipy is given, and the per-package arrays."""
    words = (drivers + 63) // 64
    return 4 * signatures * words * 8 + FULL_GRAPH_PAIRS * 48 + packages * 96


def _unpack(rows: np.ndarray, drivers: int) -> np.ndarray:
    if rows.shape[0] == 0:
        return np.zeros((0, drivers), dtype=np.bool_)
    return np.unpackbits(rows.view(np.uint8), axis=1, bitorder="little", count=drivers).astype(np.bool_)


def _pack(bools: np.ndarray) -> np.ndarray:
    """Rows of bools to rows of uint64 words, bit i of word i // 64 for column i."""
    n, width = bools.shape
    words = (width + 63) // 64
    padded = np.zeros((n, words * 64), dtype=np.bool_)
    padded[:, :width] = bools
    return np.packbits(padded, axis=1, bitorder="little").view(np.uint64).reshape(n, words)


def _unique_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """np.unique(matrix, axis=0, return_index=True, return_inverse=True), sorting one 64-bit hash per row
    instead of whole rows; rows that share a hash are compared, and any collision falls back to np.unique."""
    matrix = np.ascontiguousarray(matrix)
    if matrix.shape[0] == 0:
        return matrix, np.empty(0, np.int64), np.empty(0, np.int64)
    columns = matrix.view(np.uint64) if matrix.dtype.itemsize == 8 else matrix.astype(np.int64).view(np.uint64)
    mixed = np.zeros(matrix.shape[0], dtype=np.uint64)
    for j in range(columns.shape[1]):
        mixed = (mixed ^ columns[:, j]) * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= mixed >> np.uint64(29)
    _, first, inverse = np.unique(mixed, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not np.array_equal(matrix, matrix[first[inverse]]):
        unique, first, inverse = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
        return unique, first, inverse.reshape(-1)
    # np.unique orders rows lexicographically; here they follow their hashes, which no caller relies on.
    return matrix[first], first, inverse


def _bucket(values: np.ndarray, limits: list[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """Each package's bucket among the drivers' distinct limits and each driver's highest bucket it accepts.

    bucket = number of distinct limits below the value, so `value <= limit_j` (the j-th distinct limit)
    exactly when bucket <= j; a driver without the limit accepts every bucket."""
    has = np.asarray([x is not None for x in limits], dtype=np.bool_)
    given = np.asarray([0.0 if x is None else x for x in limits], dtype=np.float64)
    distinct = np.unique(given[has])
    packages = np.searchsorted(distinct, values, side="left")
    drivers = np.where(has, np.searchsorted(distinct, given, side="left"), len(distinct))
    return packages.astype(np.int64), drivers.astype(np.int64)


def _reaching(accepted: np.ndarray, buckets: int) -> np.ndarray:
    """(buckets + 1) x words: row j = the drivers whose highest accepted bucket is >= j. The nested rule as one
    cumulative OR over the drivers sorted by limit."""
    drivers = len(accepted)
    words = (drivers + 63) // 64
    table = np.zeros((buckets + 1, words), dtype=np.uint64)
    index = np.arange(drivers)
    np.bitwise_or.at(table, (accepted, index >> 6), np.left_shift(np.uint64(1), (index & 63).astype(np.uint64)))
    return np.bitwise_or.accumulate(table[::-1], axis=0)[::-1]


def _discrete_acceptance(rules: Sequence[Rules], table: PackageTable, keys: np.ndarray) -> np.ndarray:
    """keys x words: the drivers accepting each (region, hazmat, perishable) key."""
    drivers = len(rules)
    regions = np.ones((drivers, max(len(table.regions), 1)), dtype=np.bool_)
    hazmat = np.ones((drivers, len(table.hazmat_classes) + 1), dtype=np.bool_)  # last column: not dangerous
    perishable_ok = np.ones(drivers, dtype=np.bool_)
    for d, r in enumerate(rules):
        if r.regions is not None:
            regions[d] = False
            regions[d, [table.regions[name] for name in r.regions if name in table.regions]] = True
        if r.hazmat_classes is not None:
            hazmat[d, :-1] = False
            hazmat[d, [table.hazmat_classes[h] for h in r.hazmat_classes if h in table.hazmat_classes]] = True
        if r.temperature_control is False:
            perishable_ok[d] = False
    region, hazmat_code, perishable = keys[:, 0], keys[:, 1], keys[:, 2].astype(np.bool_)
    accept = regions[:, region] & hazmat[:, np.where(hazmat_code < 0, hazmat.shape[1] - 1, hazmat_code)]
    accept &= perishable_ok[:, None] | ~perishable[None, :]
    return _pack(accept.T)


def classify(
    rules: Sequence[Rules], table: PackageTable, memory_budget: int = DEFAULT_MEMORY_BUDGET
) -> EligibilityClasses:
    n, drivers = len(table), len(rules)
    words = (drivers + 63) // 64
    if n == 0 or not rules:
        return EligibilityClasses(np.full(n, -1, dtype=np.int64), np.zeros((0, words), dtype=np.uint64), drivers)
    weight, driver_weight = _bucket(table.weight, [r.max_weight for r in rules])
    volume, driver_volume = _bucket(table.volume, [r.max_volume for r in rules])
    distance, driver_distance = _bucket(table.distance, [r.max_distance for r in rules])
    columns = np.column_stack(
        [weight, volume, distance, table.region.astype(np.int64), table.hazmat.astype(np.int64), table.perishable]
    )
    signature, first, signature_of = _unique_rows(columns)
    needed = estimate_bytes(len(signature), drivers, n)
    if needed > memory_budget:
        raise DayTooLarge(needed, memory_budget, len(signature), drivers)

    keys, _, key_of = _unique_rows(signature[:, 3:])
    by_key = _discrete_acceptance(rules, table, keys)
    reach_weight = _reaching(driver_weight, int(driver_weight.max(initial=0)))
    reach_volume = _reaching(driver_volume, int(driver_volume.max(initial=0)))
    reach_distance = _reaching(driver_distance, int(driver_distance.max(initial=0)))
    rows = np.empty((len(signature), words), dtype=np.uint64)
    for start in range(0, len(signature), _CHUNK):
        part = slice(start, start + _CHUNK)
        block = signature[part]
        # A bucket above every driver's limit reaches no driver: clip to the table's last row, then mask it.
        w = np.minimum(block[:, 0], reach_weight.shape[0] - 1)
        v = np.minimum(block[:, 1], reach_volume.shape[0] - 1)
        x = np.minimum(block[:, 2], reach_distance.shape[0] - 1)
        found = reach_weight[w] & reach_volume[v] & reach_distance[x] & by_key[key_of[part]]
        beyond = (
            (block[:, 0] > driver_weight.max(initial=0))
            | (block[:, 1] > driver_volume.max(initial=0))
            | (block[:, 2] > driver_distance.max(initial=0))
        )
        found[beyond] = 0
        rows[part] = found

    # Signatures with the same drivers merge into one class.
    _, _, class_of_signature = _unique_rows(rows)
    classes = int(class_of_signature.max()) + 1
    class_rows = np.zeros((classes, words), dtype=np.uint64)
    class_rows[class_of_signature] = rows
    del rows
    package_class = class_of_signature[signature_of]
    # Renumber: classes in order of their first package in the manifest; drop classes no driver may carry.
    first_package = np.full(classes, n, dtype=np.int64)
    np.minimum.at(first_package, class_of_signature, first)
    order = np.argsort(first_package, kind="stable")
    order = order[class_rows[order].any(axis=1)]
    renumber = np.full(classes, -1, dtype=np.int64)
    renumber[order] = np.arange(len(order))
    return EligibilityClasses(renumber[package_class], class_rows[order], drivers)


def _class_members(classes: EligibilityClasses, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Available packages sorted by class (manifest order within a class) and where each class starts."""
    package_class = np.where(available, classes.package_class, -1)
    candidates = np.flatnonzero(package_class >= 0)
    ordered = candidates[np.argsort(package_class[candidates], kind="stable")]
    starts = np.searchsorted(package_class[ordered], np.arange(classes.count + 1), side="left")
    return ordered, starts


def _set_bits(rows: np.ndarray, drivers: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, driver) of every set bit, row-major, in chunks of rows."""
    found_rows, found_drivers = [], []
    step = max(1, 8_000_000 // max(drivers, 1))
    for start in range(0, rows.shape[0], step):
        r, d = np.nonzero(_unpack(rows[start : start + step], drivers))
        found_rows.append(r + start)
        found_drivers.append(d)
    if not found_rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(found_rows).astype(np.int64), np.concatenate(found_drivers).astype(np.int64)


def _max_flow(
    count: int, drivers: int, sizes: np.ndarray, caps: np.ndarray, edge_class: np.ndarray, edge_driver: np.ndarray
) -> np.ndarray:
    """Flow on each (class, driver) edge of a maximum flow of the class network restricted to these edges."""
    source, sink = 0, count + drivers + 1
    rows = np.concatenate([np.zeros(count, dtype=np.int64), 1 + edge_class, 1 + count + np.arange(drivers)])
    cols = np.concatenate([1 + np.arange(count), 1 + count + edge_driver, np.full(drivers, sink)])
    capacity = np.concatenate([sizes, sizes[edge_class], caps]).astype(np.int32)
    graph = csr_matrix((capacity, (rows, cols)), shape=(sink + 1, sink + 1))
    graph.sort_indices()
    flow = maximum_flow(graph, source, sink, method="dinic").flow
    return np.asarray(flow[1 + edge_class, 1 + count + edge_driver]).reshape(-1).astype(np.int64)


def _transpose(rows: np.ndarray, drivers: int) -> np.ndarray:
    """classes x words (bit = driver) to drivers x words (bit = class), in cache-sized blocks of classes."""
    classes = rows.shape[0]
    out = np.zeros((drivers, (classes + 63) // 64), dtype=np.uint64)
    step = 512
    for start in range(0, classes, step):
        block = np.unpackbits(rows[start : start + step].view(np.uint8), axis=1, bitorder="little", count=drivers)
        width = (len(block) + 63) // 64 * 64
        flipped = np.zeros((drivers, width), dtype=np.uint8)
        flipped[:, : len(block)] = block.T
        out[:, start // 64 : (start + width) // 64] = np.packbits(flipped, axis=1, bitorder="little").view(np.uint64)
    return out


class _Augmenter:
    """A flow on the class network, built greedily, then raised to the maximum along augmenting paths found on
    the eligibility bitsets (Hopcroft-Karp's phases: a breadth-first search from the drivers with spare
    capacity, then a depth-first search per class with packages left along the shortest layers). When a
    search finds no class with packages left that can reach a driver with spare capacity, no augmenting path
    exists and the flow is maximum (max-flow/min-cut theorem).

    Classes are renumbered internally, those the fewest drivers may carry first, so that the greedy start
    reads each driver's classes hardest first; `result` maps them back."""

    def __init__(self, rows: np.ndarray, sizes: np.ndarray, caps: np.ndarray):
        degree = np.bitwise_count(rows).sum(axis=1)
        usable = degree > 0
        self.rank = np.argsort(np.where(usable, degree, np.iinfo(np.int64).max), kind="stable")
        self.classes = int(usable.sum())
        self.rank = self.rank[: self.classes]
        self.rows = rows[self.rank]  # classes x driver words
        self.by_driver = _transpose(self.rows, len(caps))  # drivers x class words
        self.caps = caps
        self.drivers = len(caps)
        self.left = sizes[self.rank].astype(np.int64)
        self.spare = caps.astype(np.int64).copy()
        self.edge_class = np.empty(0, dtype=np.int64)
        self.edge_driver = np.empty(0, dtype=np.int64)
        self.amount = np.empty(0, dtype=np.int64)
        self.index: dict[tuple[int, int], int] = {}
        self.added: list[tuple[int, int, int]] = []  # edges made by augmentations, merged at each phase
        self.augmentations = 0
        self.phases = 0

    def _bits(self, classes: np.ndarray) -> np.ndarray:
        out = np.zeros(self.by_driver.shape[1], dtype=np.uint64)
        np.bitwise_or.at(out, classes >> 6, np.left_shift(np.uint64(1), (classes & 63).astype(np.uint64)))
        return out

    def greedy(self) -> None:
        """Drivers eligible for the fewest classes first each take the classes the fewest drivers may carry."""
        open_bits = self._bits(np.flatnonzero(self.left > 0))
        popularity = np.bitwise_count(self.by_driver).sum(axis=1)
        taken_class, taken_driver, taken = [], [], []
        for driver in np.argsort(popularity, kind="stable").tolist():
            want = int(self.spare[driver])
            if want <= 0:
                continue
            words = self.by_driver[driver] & open_bits
            nonzero = np.flatnonzero(words)[:want]  # each holds at least one class: enough for `want`
            if len(nonzero) == 0:
                continue
            bits = np.unpackbits(words[nonzero].view(np.uint8), bitorder="little").reshape(len(nonzero), 64)
            word_index, bit = np.nonzero(bits)
            chosen = (nonzero[word_index] * 64 + bit)[:want]
            before = np.cumsum(self.left[chosen]) - self.left[chosen]
            amount = np.minimum(self.left[chosen], np.maximum(want - before, 0))
            chosen, amount = chosen[amount > 0], amount[amount > 0]
            self.left[chosen] -= amount
            self.spare[driver] -= int(amount.sum())
            emptied = chosen[self.left[chosen] == 0]
            np.bitwise_and.at(open_bits, emptied >> 6, ~np.left_shift(np.uint64(1), (emptied & 63).astype(np.uint64)))
            taken_class.append(chosen)
            taken_driver.append(np.full(len(chosen), driver, dtype=np.int64))
            taken.append(amount)
        if taken:
            self.edge_class = np.concatenate(taken_class)
            self.edge_driver = np.concatenate(taken_driver)
            self.amount = np.concatenate(taken).astype(np.int64)
            self.index = dict(
                zip(
                    zip(self.edge_class.tolist(), self.edge_driver.tolist(), strict=True),
                    range(len(self.amount)),
                    strict=True,
                )
            )

    def _send(self, cls: int, driver: int, amount: int) -> None:
        i = self.index.get((cls, driver))
        if i is None:
            i = self.index[(cls, driver)] = len(self.amount) + len(self.added)
            self.added.append((cls, driver, amount))
        elif i >= len(self.amount):
            cls, driver, held = self.added[i - len(self.amount)]
            self.added[i - len(self.amount)] = (cls, driver, held + amount)
        else:
            self.amount[i] += amount

    def _merge(self) -> None:
        if self.added:
            cls, driver, amount = (np.asarray(x, dtype=np.int64) for x in zip(*self.added, strict=True))
            self.edge_class = np.concatenate([self.edge_class, cls])
            self.edge_driver = np.concatenate([self.edge_driver, driver])
            self.amount = np.concatenate([self.amount, amount])
            self.added = []

    def phase(self) -> int:
        """One Hopcroft-Karp phase; the number of packages it placed (0: the flow is maximum)."""
        self._merge()
        self.phases += 1
        frontier = np.flatnonzero((self.spare > 0) & (self.caps > 0))
        class_level = np.full(self.classes, -1, dtype=np.int64)
        driver_level = np.full(self.drivers, -1, dtype=np.int64)
        unseen = self._bits(np.arange(self.classes))
        masks: list[np.ndarray] = []
        carried = self.amount > 0
        level = 0
        while len(frontier):
            driver_level[frontier] = level
            masks.append(_pack(np.isin(np.arange(self.drivers), frontier)[None, :])[0])
            reached_bits = np.bitwise_or.reduce(self.by_driver[frontier], axis=0) & unseen
            unseen &= ~reached_bits
            reached = np.flatnonzero(np.unpackbits(reached_bits.view(np.uint8), bitorder="little")[: self.classes])
            class_level[reached] = level
            starts = reached[self.left[reached] > 0]
            if len(starts):
                return self._paths(starts, masks, class_level)
            carriers = np.unique(self.edge_driver[carried & (class_level[self.edge_class] == level)])
            frontier = carriers[driver_level[carriers] < 0]
            level += 1
        return 0

    def _paths(self, starts: np.ndarray, masks: list[np.ndarray], class_level: np.ndarray) -> int:
        order = np.argsort(self.edge_driver, kind="stable")
        bounds = np.searchsorted(self.edge_driver[order], np.arange(self.drivers + 1))
        dead = np.zeros(len(masks[0]), dtype=np.uint64)
        dead_class = np.zeros(self.classes, dtype=np.bool_)
        placed = 0

        def kill(driver: int) -> None:
            dead[driver >> 6] |= np.uint64(1) << np.uint64(driver & 63)

        def search(cls: int, level: int) -> list[tuple[int, int, int]] | None:
            candidates = _unpack((self.rows[cls] & masks[level] & ~dead)[None, :], self.drivers)[0]
            for driver in np.flatnonzero(candidates).tolist():
                if level == 0:
                    if self.spare[driver] > 0:
                        return [(cls, driver, -1)]
                    kill(driver)
                    continue
                edges = order[bounds[driver] : bounds[driver + 1]]
                carried = self.edge_class[edges]
                edges = edges[(self.amount[edges] > 0) & (class_level[carried] == level - 1) & ~dead_class[carried]]
                for i in edges.tolist():
                    if self.amount[i] <= 0:
                        continue
                    rest = search(int(self.edge_class[i]), level - 1)
                    if rest is not None:
                        return [(cls, driver, i), *rest]
                    dead_class[self.edge_class[i]] = True
                kill(driver)
            return None

        for origin in starts.tolist():
            while self.left[origin] > 0:
                path = search(origin, int(class_level[origin]))
                if path is None:
                    break
                target = path[-1][1]
                amount = min(int(self.left[origin]), int(self.spare[target]))
                for _, _, back in path:
                    if back >= 0:
                        amount = min(amount, int(self.amount[back]))
                for cls, driver, back in path:
                    self._send(cls, driver, amount)
                    if back >= 0:
                        self.amount[back] -= amount
                self.left[origin] -= amount
                self.spare[target] -= amount
                self.augmentations += 1
                placed += amount
        return placed

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._merge()
        keep = self.amount > 0
        return self.rank[self.edge_class[keep]], self.edge_driver[keep], self.amount[keep]


@dataclass
class MatchingStats:
    """How one maximum_assignment went (for metrics and benchmarks)."""

    pairs: int = 0
    edges: int = 0
    augmentations: int = 0
    phases: int = 0
    certified: bool = False


def maximum_assignment(
    classes: EligibilityClasses,
    capacity: Sequence[int],
    available: np.ndarray | None = None,
    stats: MatchingStats | None = None,
) -> list[np.ndarray]:
    """Package indices per driver (request order), as many in total as any assignment can reach.

    `capacity[d]` is the most packages driver `d` may get; `available` masks packages already taken.
    """
    drivers = len(capacity)
    n = len(classes.package_class)
    available = np.ones(n, dtype=np.bool_) if available is None else available
    ordered, starts = _class_members(classes, available)
    sizes = np.diff(starts).astype(np.int64)
    result: list[np.ndarray] = [np.empty(0, dtype=np.int64) for _ in range(drivers)]
    stats = stats if stats is not None else MatchingStats()
    if len(ordered) == 0 or drivers == 0:
        return result
    caps = np.minimum(np.asarray(capacity, dtype=np.int64), len(ordered))
    capable = _pack((caps > 0)[None, :])[0]
    rows = classes.rows & capable
    usable = rows.any(axis=1) & (sizes > 0)
    rows[~usable] = 0
    pairs = int(np.bitwise_count(rows).sum())
    stats.pairs = pairs
    if pairs == 0:
        return result
    if pairs <= FULL_GRAPH_PAIRS:
        edge_class, edge_driver = _set_bits(rows, drivers)
        stats.edges = len(edge_class)
        amount = _max_flow(classes.count, drivers, sizes, caps, edge_class, edge_driver)
    else:
        augmenter = _Augmenter(rows, sizes, caps)
        augmenter.greedy()
        while augmenter.phase():
            pass
        edge_class, edge_driver, amount = augmenter.result()
        stats.edges = len(edge_class)
        stats.augmentations, stats.phases = augmenter.augmentations, augmenter.phases
        stats.certified = True

    return _hand_out(ordered, starts, edge_class, edge_driver, amount, drivers)


def _hand_out(
    ordered: np.ndarray,
    starts: np.ndarray,
    edge_class: np.ndarray,
    edge_driver: np.ndarray,
    amount: np.ndarray,
    drivers: int,
) -> list[np.ndarray]:
    """Each class's packages in manifest order to its drivers in request order, each taking its flow."""
    keep = amount > 0
    edge_class, edge_driver, amount = edge_class[keep], edge_driver[keep], amount[keep]
    by_class = np.lexsort((edge_driver, edge_class))
    edge_class, edge_driver, amount = edge_class[by_class], edge_driver[by_class], amount[by_class]
    # Where each edge's packages start: its class's first package plus what the class's earlier edges took.
    taken_before = np.cumsum(amount) - amount
    class_first_edge = np.searchsorted(edge_class, edge_class, side="left")
    first = starts[edge_class] + taken_before - taken_before[class_first_edge]
    unit_edge = np.repeat(np.arange(len(amount)), amount)
    offset = np.arange(len(unit_edge)) - np.repeat(taken_before, amount)
    packages = ordered[first[unit_edge] + offset]
    owners = edge_driver[unit_edge]
    by_driver = np.lexsort((packages, owners))
    packages, owners = packages[by_driver], owners[by_driver]
    bounds = np.searchsorted(owners, np.arange(drivers + 1))
    return [packages[bounds[d] : bounds[d + 1]].astype(np.int64) for d in range(drivers)]


def first_fit(
    classes: EligibilityClasses, capacity: Sequence[int], available: np.ndarray | None = None
) -> list[np.ndarray]:
    """The baseline: each driver in turn takes the first packages it may carry, in manifest order.

    Same eligibility classes as `maximum_assignment`; it can leave packages behind that a maximum assignment
    places (a driver takes a package that only another driver could have carried).
    """
    n = len(classes.package_class)
    free = np.ones(n, dtype=np.bool_) if available is None else available.copy()
    result = []
    for driver, cap in enumerate(capacity):
        carries = np.append(classes.may_carry(driver), False)
        mask = carries[classes.package_class] & free
        chosen = np.flatnonzero(mask)[: max(cap, 0)]
        free[chosen] = False
        result.append(chosen)
    return result
