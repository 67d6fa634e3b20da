"""A day's lists read back: as stored (GET /days/<date>/manifest), or parsed once per version for /assign and the
history checker."""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError
from servicekit.domain_errors import Invalid, NotFound

from ..adapters.unit_of_work import DispatchUnitOfWork
from ..domain.day_lists import DayLists


def no_lists(day: dt.date | str) -> NotFound:
    return NotFound(f"No lists for {day}: upload them (POST /days/{day}/manifest) or generate them (make day).")


def read_manifest(uow: DispatchUnitOfWork, day: dt.date) -> bytes:
    found = uow.files.manifest(day.isoformat())
    if found is None:
        raise no_lists(day)
    return found[1]


def load_lists(uow: DispatchUnitOfWork, day: str) -> DayLists:
    found = uow.files.manifest(day)
    if found is None:
        raise no_lists(day)
    version, body = found
    cached = uow.parsed.get(day, version)
    if cached is not None:
        return cached
    try:
        lists = DayLists.parse(day, version, body)
    except ValidationError as exc:
        raise _unreadable(exc) from None
    uow.parsed.keep(lists)
    return lists


def _unreadable(exc: ValidationError) -> Invalid:
    """Stored lists that are not lists of ours, each bad field named as an upload's would be."""
    errors = [
        {"loc": ".".join(["manifest", *(str(p) for p in err["loc"])]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    return Invalid(f"Invalid or missing: {', '.join(e['loc'] for e in errors)}", errors=errors)
