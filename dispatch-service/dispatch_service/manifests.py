"""The day's lists: stored whole after validation, read back, and parsed once per version for /assign."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from pydantic import ValidationError
from servicekit import ApiProblem, counter
from servicekit.validation import validation_problem

from .domain.models import Manifest, ManifestStored
from .domain.rules import PackageTable
from .wiring import Dependencies

log = logging.getLogger("dispatch_service.manifests")
_uploads = counter("dispatch_manifests_stored_total", "Day lists stored", ["source"])
for _source in ("upload", "generator"):
    _uploads.labels(_source)


@dataclass(frozen=True)
class DayLists:
    day: str
    version: str
    manifest: Manifest
    table: PackageTable
    driver_index: dict[str, int]
    package_index: dict[str, int]


_parsed_lock = threading.Lock()
_parsed: dict[tuple[str, str], DayLists] = {}


def store(deps: Dependencies, day: dt.date, manifest: Manifest, source: str = "upload") -> ManifestStored:
    body = manifest.model_dump_json(exclude_none=True).encode()
    key = deps.files.put_manifest(day.isoformat(), body)
    _uploads.labels(source).inc()
    log.info(
        "day lists stored",
        extra={"day": day.isoformat(), "drivers": len(manifest.drivers), "packages": len(manifest.packages)},
    )
    return ManifestStored(date=day, drivers=len(manifest.drivers), packages=len(manifest.packages), key=key)


def raw(deps: Dependencies, day: dt.date) -> bytes:
    found = deps.files.manifest(day.isoformat())
    if found is None:
        raise no_lists(day)
    return found[1]


def no_lists(day: dt.date | str) -> ApiProblem:
    return ApiProblem(
        404, "Not Found", f"No lists for {day}: upload them (POST /days/{day}/manifest) or generate them (make day)."
    )


def load(deps: Dependencies, day: str) -> DayLists:
    found = deps.files.manifest(day)
    if found is None:
        raise no_lists(day)
    version, body = found
    with _parsed_lock:
        cached = _parsed.get((day, version))
    if cached:
        return cached
    try:
        manifest = Manifest.model_validate_json(body)
    except ValidationError as exc:
        raise validation_problem(exc, "manifest") from None
    driver_index = {d.driver_id: i for i, d in enumerate(manifest.drivers)}
    package_index = {p.package_id: i for i, p in enumerate(manifest.packages)}
    lists = DayLists(day, version, manifest, PackageTable.of(manifest.packages), driver_index, package_index)
    with _parsed_lock:
        _parsed.clear()  # one day's lists at a time: the day being dispatched
        _parsed[(day, version)] = lists
    return lists
