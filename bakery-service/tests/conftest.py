"""Fixtures of bakery-service's tests: settings on a real migrated Postgres, an app, an authorised client,
and small test doubles of the five outside-API clients (for the outbox processor's own tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

JWT_SECRET = "bakery-test-secret-long-enough-for-hs256-0123456789"
WEBHOOK_SECRET = "jira-webhook-test-secret"
BAKERY_TABLES = (
    "bakery.job_outbox",
    "bakery.drive_documents",
    "bakery.orders",
    "bakery.schedule_runs",
    "bakery.ingredient_batches",
    "bakery.cake_ingredients",
    "bakery.cakes",
    "bakery.employees",
)
CHOCOLATE_CAKE = {
    "name": "Chocolate Cake",
    "ingredients": {"chocolate": 33.5, "butter": 16.5, "flour": 8.5, "sugar": 16.5, "eggs": 1},
}
BRIEF_ORDER = {
    "customer": "Mr. Cakelover",
    "recipe": "chocolate_cake",
    "persons": 4,
    "quantity": 2,
    "extra_ingredients": {"peanuts": 10},
}


@pytest.fixture()
def bakery_db(migrated_db_url: str) -> Iterator[str]:
    """The migrated database with bakery's tables emptied before the test."""
    engine = create_engine(migrated_db_url)
    with engine.begin() as conn:
        for table in BAKERY_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - constant table names
    engine.dispose()
    yield migrated_db_url


@pytest.fixture()
def make_settings(bakery_db: str):
    from bakery_service.settings import Settings

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "jwt_secret": JWT_SECRET,
            "database_url": bakery_db,
            "schedule_enabled": False,
            "jira_webhook_secret": WEBHOOK_SECRET,
            "integration_retry_base_seconds": 1.0,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture()
def settings(make_settings):
    return make_settings()


class FakeClient:
    """A test double of one outside-API client: records calls, answers what the test set, raises what
    the test queued (the processor's own behaviour is under test, not the vendor's API)."""

    def __init__(self, configured: bool = True) -> None:
        self.configured = configured
        self.calls: list[tuple[str, tuple]] = []
        self.errors: list[Exception] = []
        self.answers: dict[str, Any] = {}

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((name, args))  # keyword arguments (metadata and the like) are not recorded
        if self.errors:
            raise self.errors.pop(0)
        answer = self.answers.get(name)
        return answer(*args) if callable(answer) else answer

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._call(name, *args, **kwargs)

    def named(self, name: str) -> list[tuple]:
        return [args for called, args in self.calls if called == name]


@pytest.fixture()
def fakes():
    """Configured doubles of jira, slack, email, drive and github (flip ``.configured`` per test)."""
    from bakery_service.adapters.clients import IntegrationClients

    doubles = {name: FakeClient() for name in ("jira", "slack", "email", "drive", "github")}
    tickets = iter(range(1, 1000))
    doubles["jira"].answers.update(find_tickets_by_label=[], create_ticket=lambda *a: f"BAKE-{next(tickets)}")
    doubles["slack"].answers.update(open_conversation=lambda user: f"D-{user}", post_notice=lambda *a: "1764489600.1")
    doubles["email"].answers["send"] = lambda email: f"<{email.key}@bakery.example>"
    doubles["drive"].answers.update(generate_id="doc-1", document_text="", append_line=True)
    return IntegrationClients(**doubles)


@pytest.fixture()
def deps(settings, fakes):
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.wiring import Dependencies
    from servicekit.db import make_engine

    engine = make_engine(settings.database_url, pool_size=2)
    yield Dependencies(settings=settings, engine=engine, clients=fakes, login=LoginForwarder(settings.auth_login_url))
    engine.dispose()


@pytest.fixture()
def app(settings, deps):
    from bakery_service import create_app

    return create_app(settings, deps)


@pytest.fixture()
def token(settings) -> str:
    from servicekit import issue_token

    return issue_token(settings, "baker@bakery.example")[0]


@pytest.fixture()
def client(app, token):
    """A test client that sends the suite's token on every request."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return test_client


@pytest.fixture()
def processor(deps):
    from bakery_service.background.outbox_processor import OutboxProcessor

    return OutboxProcessor(deps.engine, deps.clients, deps.settings, jitter=lambda: 1.0)


@pytest.fixture()
def outbox(deps):
    """The outbox rows, optionally of one integration, oldest first (with ``integration`` and ``action``)."""
    from dataclasses import asdict

    from jobs.outbox import Outbox

    def rows(integration: str | None = None) -> list[dict]:
        return [
            {**asdict(r), "integration": r.channel, "action": r.type.split(".", 1)[1]}
            for r in Outbox(deps.engine, "bakery").rows(integration)
        ]

    return rows
