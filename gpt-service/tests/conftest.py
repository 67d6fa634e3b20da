"""Fixtures of gpt-service's tests: sample loads, settings, and a fake OpenAI server over real HTTP."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gpt_service import create_app
from gpt_service.settings import Settings
from servicekit import issue_token, service_token
from testkit.fake_openai import FakeOpenAI, prompt_text

JWT_SECRET = "test-secret-of-gpt-service-0123456789"
CITIES = [
    "Dallas, TX",
    "Atlanta, GA",
    "Chicago, IL",
    "Memphis, TN",
    "Denver, CO",
    "Phoenix, AZ",
    "Columbus, OH",
    "Charlotte, NC",
    "Laredo, TX",
    "Kansas City, MO",
    "Nashville, TN",
    "Reno, NV",
]


def sample_loads(count: int, seed: int = 7, start: datetime | None = None) -> list[dict[str, Any]]:
    """Loads as automation-service sends them: two portals, some without price or miles."""
    rnd = random.Random(seed)
    start = start or datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    loads = []
    for i in range(count):
        origin, destination = rnd.sample(CITIES, 2)
        miles = None if i % 5 == 0 else rnd.randint(150, 1500)
        rate = rnd.uniform(1.6, 3.4)
        price = None if i % 11 == 0 else round((miles or 700) * rate, 2)
        loads.append(
            {
                "portal": "jbhunt" if i % 2 else "landstar",
                "load_id": f"L{1000 + i}",
                "origin": origin,
                "destination": destination,
                "price": price,
                "currency": "USD",
                "posted_at": (start + timedelta(minutes=23 * i)).isoformat(),
                "eta": (start + timedelta(days=2, minutes=23 * i)).isoformat(),
                "equipment": rnd.choice(["Dry Van", "Reefer", "Flatbed"]),
                "weight_lbs": rnd.randint(5000, 44000),
                "miles": miles,
            }
        )
    return loads


@pytest.fixture()
def loads() -> list[dict[str, Any]]:
    return sample_loads(40)


@pytest.fixture()
def many_loads() -> Callable[[int], list[dict[str, Any]]]:
    return sample_loads


def valid_answer(request: dict[str, Any]) -> dict[str, Any]:
    """What a well-behaved model answers: notes for the loads listed in the LOADS table."""
    table = prompt_text(request).split("LOADS (", 1)[1].splitlines()[2:]
    notes = []
    for row in table:
        cells = row.split("|")
        if len(cells) >= 2:
            notes.append({"portal": cells[0], "load_id": cells[1], "score": 0.9, "note": f"model note on {cells[1]}"})
    return {
        "summary": "Dry van rates are firm on the Texas lanes.",
        "insights": ["Dallas, TX lanes pay best.", "Book early postings."],
        "price_trends": [{"lane": None, "direction": "up", "change_pct": 4.2, "detail": "Later postings pay more."}],
        "route_suggestions": [{"lane": "Dallas, TX -> Atlanta, GA", "reason": "Best rate.", "rate_per_mile": 2.9}],
        "notes": notes,
    }


@pytest.fixture()
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(valid_answer) as fake:
        yield fake


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": JWT_SECRET,
        "openai_timeout_seconds": 2.0,
        "redis_url": None,
        "openai_retry_after_max_seconds": 2.0,
        "openai_deadline_seconds": 8.0,
        "openai_retry_backoff_seconds": 0.05,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture()
def settings_for(fake_openai: FakeOpenAI) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        defaults = {"openai_api_key": "sk-test", "openai_base_url": fake_openai.base_url}
        return make_settings(**{**defaults, **overrides})

    return build


@pytest.fixture()
def client_for() -> Callable[[Settings], Any]:
    def build(settings: Settings):
        return create_app(settings).test_client()

    return build


@pytest.fixture()
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {service_token(make_settings())}"}


@pytest.fixture()
def user_auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(make_settings(), 'dispatcher@example.com')[0]}"}
