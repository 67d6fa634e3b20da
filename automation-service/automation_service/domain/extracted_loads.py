"""One model for a load from any portal, and the rules that turn a portal's text into it."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, Field

PORTALS = ("jbhunt", "landstar")
_CITY_STATE = re.compile(r"^\s*(?P<city>[^,]+?)\s*,\s*(?P<state>[A-Za-z]{2})\b")
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")
_SMALL_WORDS = {"of", "and"}


class Place(BaseModel):
    city: str
    state: str = Field(pattern=r"^[A-Z]{2}$")


class Load(BaseModel):
    """A load as the suite stores it, whatever portal it came from."""

    portal: str
    portal_load_id: str
    origin: Place
    destination: Place
    price: Decimal | None = None
    currency: str | None = None
    price_text: str = ""
    posted_at: AwareDatetime
    pickup_at: AwareDatetime | None = None
    eta: AwareDatetime | None = None
    equipment: str | None = None
    weight_lbs: int | None = None
    miles: int | None = None

    @property
    def rate_per_mile(self) -> Decimal | None:
        if self.price is None or not self.miles:
            return None
        return (self.price / self.miles).quantize(Decimal("0.01"))


class NormalisationError(ValueError):
    """A portal row the scraper cannot make sense of (it is skipped and counted, not stored)."""


def _title(city: str) -> str:
    # Landstar prints "SALT LAKE CITY"; keep "St. Louis" and "Kansas City" readable either way.
    words = city.strip().split()
    return " ".join(w.lower() if w.lower() in _SMALL_WORDS and i else w.capitalize() for i, w in enumerate(words))


def parse_place(text: str) -> Place:
    match = _CITY_STATE.match(text or "")
    if not match:
        raise NormalisationError(f"not a 'City, ST' place: {text!r}")
    return Place(city=_title(match["city"]), state=match["state"].upper())


def parse_price(text: str | None) -> tuple[Decimal | None, str | None]:
    """'$2,350.00', '2350', 'USD 2,350' -> (Decimal, 'USD'); '', 'Call', 'N/A' -> (None, None)."""
    match = _NUMBER.search(text or "")
    if not match:
        return None, None
    try:
        value = Decimal(match.group().replace(",", ""))
    except InvalidOperation:
        return None, None
    if value <= 0:
        return None, None
    return value.quantize(Decimal("0.01")), "USD"


def parse_local_time(text: str | None, formats: tuple[str, ...], zone: str) -> datetime | None:
    """A portal's wall-clock time in its own zone -> an aware datetime; blank -> None."""
    cleaned = re.sub(r"\s+(CT|CST|CDT|ET|EST|EDT)$", "", (text or "").strip())
    if not cleaned:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=ZoneInfo(zone))
        except ValueError:
            continue
    raise NormalisationError(f"time {text!r} matches none of {formats}")


def parse_int(text: str | int | None) -> int | None:
    if isinstance(text, int):
        return text
    match = _NUMBER.search(text or "")
    if not match:
        return None
    return int(Decimal(match.group().replace(",", "")))


def most_recent(loads: list[Load], count: int) -> list[Load]:
    """The ``count`` most recently posted loads; ties broken by id so the choice is stable."""
    return sorted(loads, key=lambda load: (load.posted_at, load.portal_load_id), reverse=True)[:count]
