"""A day's lists stored whole (an upload, or the generator's): refused when an id repeats within a list."""

from __future__ import annotations

import datetime as dt
import logging

from servicekit.domain_errors import Conflict

from ..adapters.unit_of_work import DispatchUnitOfWork
from ..domain.models import Manifest, ManifestStored
from ..metrics import manifests_stored

log = logging.getLogger("dispatch_service.manifests")


def store_manifest(uow: DispatchUnitOfWork, day: dt.date, manifest: Manifest, source: str = "upload") -> ManifestStored:
    repeated = manifest.repeated_ids()
    if repeated:
        # Well-formed lists that contradict themselves: 409, naming each repeated id; nothing is stored.
        names = ", ".join(f"{e['loc']} {e['msg'].removesuffix(' repeated')}" for e in repeated)
        raise Conflict(f"Ids must be unique within each list; repeated: {names}", errors=repeated)
    body = manifest.model_dump_json(exclude_none=True).encode()
    key = uow.files.put_manifest(day.isoformat(), body)
    manifests_stored.labels(source).inc()
    log.info(
        "day lists stored",
        extra={"day": day.isoformat(), "drivers": len(manifest.drivers), "packages": len(manifest.packages)},
    )
    return ManifestStored(date=day, drivers=len(manifest.drivers), packages=len(manifest.packages), key=key)
