"""URL converters every service may use in its routes, each with the schema /openapi.json declares for it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from werkzeug.exceptions import UnprocessableEntity
from werkzeug.routing import BaseConverter

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidPathParameter(UnprocessableEntity):
    """A path segment the route matched but cannot read: 422 problem+json, like a bad body or query."""

    name = "Validation failed"


class DateConverter(BaseConverter):
    """``<date:day>``: a calendar day as YYYY-MM-DD, given to the view as a ``datetime.date``; any other
    segment is 422 naming the parameter, before the view runs."""

    openapi_schema: ClassVar[dict[str, Any]] = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

    def to_python(self, value: str) -> dt.date:
        try:
            if _DAY.fullmatch(value):
                return dt.date.fromisoformat(value)
        except ValueError:
            pass
        raise InvalidPathParameter(f"Invalid path: {value!r} is not a day as YYYY-MM-DD.")

    def to_url(self, value: dt.date | str) -> str:
        return value.isoformat() if isinstance(value, dt.date) else str(value)


CONVERTERS = {"date": DateConverter}
