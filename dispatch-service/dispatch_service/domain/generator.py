"""A day's lists for a logistics centre, generated from a seed (the same seed gives the same day).

Drivers come in vehicle classes, as fleets do: limits are drawn from a few standard values, regions from the
centre's eight, and each rule is present with some probability (a driver without a rule is not limited by
it). Packages have continuous weights, volumes and distances; about 15 % are perishable and 5 % dangerous
goods. `flask --app dispatch_service dispatch generate-day` and `make day` call `generate_day` (through
usecases/generate_day.py).

With `continuous_limits=True` every driver has its own `max_weight`, `max_volume` and `max_distance`, drawn
from continuous ranges, as when every vehicle has its own capacity: nearly every package then falls in an
eligibility class of its own, the hardest case for the matching (README, "Adversarial days").
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from .models import Driver, Manifest, Package, Rules

REGIONS = ["north", "south", "east", "west", "central", "harbour", "airport", "industrial"]
HAZMAT_CLASSES = ["1", "2", "3", "4", "5", "6", "8", "9"]
MAX_WEIGHTS = [25.0, 50.0, 100.0, 250.0, 500.0, 1000.0]  # kg
MAX_VOLUMES = [60.0, 150.0, 400.0, 1000.0, 3000.0]  # litres
MAX_DISTANCES = [25.0, 60.0, 120.0, 250.0]  # km
STREETS = ["Main St", "Harbour Rd", "Station Ave", "Mill Lane", "Airport Blvd", "Oak St", "Depot Way"]


def generate_driver(rng: random.Random, number: int, continuous_limits: bool = False) -> Driver:
    rules: dict = {}
    if rng.random() < 0.7:
        rules["regions"] = sorted(rng.sample(REGIONS, rng.randint(1, 4)))
    if rng.random() < 0.8:
        rules["max_weight"] = rng.choice(MAX_WEIGHTS)
    if rng.random() < 0.6:
        rules["temperature_control"] = rng.random() < 0.4
    if rng.random() < 0.6:
        rules["hazmat_classes"] = sorted(rng.sample(HAZMAT_CLASSES, rng.randint(0, 3)))
    if rng.random() < 0.6:
        rules["max_volume"] = rng.choice(MAX_VOLUMES)
    if rng.random() < 0.5:
        rules["max_distance"] = rng.choice(MAX_DISTANCES)
    if continuous_limits:
        rules["max_weight"] = round(rng.uniform(5.0, 120.0), 1)
        rules["max_volume"] = round(rng.uniform(20.0, 400.0), 1)
        rules["max_distance"] = round(rng.uniform(20.0, 300.0), 1)
    return Driver(driver_id=f"driver_{number}", rules=Rules(**rules))


def generate_package(rng: random.Random) -> Package:
    return Package(
        package_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        weight=round(min(rng.lognormvariate(2.3, 1.1), 1500.0), 1),
        volume=round(min(rng.lognormvariate(3.5, 1.2), 4000.0), 1),
        region=rng.choice(REGIONS),
        distance=round(rng.uniform(1.0, 300.0), 1),
        perishable=rng.random() < 0.15,
        hazmat_class=rng.choice(HAZMAT_CLASSES) if rng.random() < 0.05 else None,
        destination=f"{rng.randint(1, 999)} {rng.choice(STREETS)}, {rng.choice(REGIONS).title()} District",
    )


def generate_day(
    date: dt.date, drivers: int, packages: int, seed: int = 0, continuous_limits: bool = False
) -> Manifest:
    """`drivers` drivers (driver_1 ... driver_N) and `packages` packages for `date`."""
    rng = random.Random(f"{date.isoformat()}/{seed}" + ("/continuous" if continuous_limits else ""))
    return Manifest.model_construct(
        drivers=[generate_driver(rng, i, continuous_limits) for i in range(1, drivers + 1)],
        packages=[generate_package(rng) for _ in range(packages)],
    )
