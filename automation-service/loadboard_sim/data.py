"""The loads each simulated portal lists: generated once per process from a seed, so they are stable.

Both portals post loads out of order (a feed is not sorted by posting time), mix price formats and
show times in their own format and zone, as the real boards do. Load ids are derived from the seed,
so a second extraction run sees the same loads again (and the scraper must not duplicate them).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

CITIES = [
    ("Dallas", "TX", 32.78, -96.80),
    ("Houston", "TX", 29.76, -95.37),
    ("Atlanta", "GA", 33.75, -84.39),
    ("Chicago", "IL", 41.88, -87.63),
    ("Memphis", "TN", 35.15, -90.05),
    ("Phoenix", "AZ", 33.45, -112.07),
    ("Denver", "CO", 39.74, -104.99),
    ("Kansas City", "MO", 39.10, -94.58),
    ("Columbus", "OH", 39.96, -83.00),
    ("Charlotte", "NC", 35.23, -80.84),
    ("Jacksonville", "FL", 30.33, -81.66),
    ("Los Angeles", "CA", 34.05, -118.24),
    ("Salt Lake City", "UT", 40.76, -111.89),
    ("Nashville", "TN", 36.16, -86.78),
    ("St. Louis", "MO", 38.63, -90.20),
    ("Laredo", "TX", 27.53, -99.49),
    ("Indianapolis", "IN", 39.77, -86.16),
    ("Harrisburg", "PA", 40.27, -76.88),
]
EQUIPMENT = ["Dry Van 53'", "Reefer 53'", "Flatbed 48'", "Step Deck", "Power Only"]


@dataclass(frozen=True)
class SimLoad:
    load_id: str
    origin: tuple[str, str]
    destination: tuple[str, str]
    posted_at: datetime  # aware, UTC
    pickup_at: datetime
    eta: datetime
    price: float | None  # None: "Call" or blank on the board
    price_style: str  # how the board prints it: dollars, plain, call, blank
    equipment: str
    weight_lbs: int
    miles: int | None


def _miles(a: tuple, b: tuple) -> int:
    # Great-circle distance times a road factor: plausible enough for rate-per-mile figures.
    lat1, lon1, lat2, lon2 = map(math.radians, (a[2], a[3], b[2], b[3]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return int(2 * 3959 * math.asin(math.sqrt(h)) * 1.18)


def generate(portal: str, count: int, anchor: datetime, seed: int) -> list[SimLoad]:
    """``count`` loads posted during the 36 hours before ``anchor``, in feed (not time) order."""
    rng = random.Random(f"{portal}:{seed}")
    styles = ["dollars", "dollars", "plain", "plain", "call", "blank"]
    loads = []
    for n in range(count):
        origin, destination = rng.sample(CITIES, 2)
        miles = _miles(origin, destination)
        posted = anchor - timedelta(minutes=rng.randint(5, 36 * 60))
        pickup = posted + timedelta(hours=rng.randint(6, 48))
        eta = pickup + timedelta(hours=max(4, miles // 50))
        style = styles[n % len(styles)]
        price = None if style in ("call", "blank") else round(miles * rng.uniform(1.6, 3.4) + 150, 0)
        loads.append(
            SimLoad(
                load_id=f"{'JBH' if portal == 'jbhunt' else 'LS'}{rng.randint(10**6, 10**7 - 1)}",
                origin=(origin[0], origin[1]),
                destination=(destination[0], destination[1]),
                posted_at=posted,
                pickup_at=pickup,
                eta=eta,
                price=price,
                price_style=style,
                equipment=rng.choice(EQUIPMENT),
                weight_lbs=rng.randrange(8000, 45000, 500),
                miles=None if (portal == "landstar" and n % 7 == 3) else miles,
            )
        )
    rng.shuffle(loads)
    return loads


def price_text(load: SimLoad) -> str:
    if load.price_style == "call":
        return "Call"
    if load.price_style == "blank" or load.price is None:
        return ""
    if load.price_style == "dollars":
        return f"${load.price:,.2f}"
    return f"{load.price:.0f}"


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))
