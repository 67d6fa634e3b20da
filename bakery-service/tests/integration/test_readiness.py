"""bakery-service is ready exactly when its Postgres answers (a real throwaway cluster here)."""

from __future__ import annotations

import pytest
import servicekit
from bakery_service import create_app
from bakery_service.settings import Settings
from testkit.servers import free_port

pytestmark = pytest.mark.integration


def test_ready_when_postgres_answers(migrated_db_url: str) -> None:
    app = create_app(Settings(jwt_secret="s" * 64, database_url=migrated_db_url))
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["checks"]["postgres"]["status"] == "up"
    finally:
        servicekit.close_app(app)  # its outbox processor must not go on touching the other tests' rows


def test_not_ready_when_postgres_is_down_and_the_password_stays_secret() -> None:
    url = f"postgresql+psycopg://baker:s3cret-pw@127.0.0.1:{free_port()}/bakery"
    app = create_app(Settings(jwt_secret="s" * 64, database_url=url))
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["postgres"]["status"] == "down"
        assert "s3cret-pw" not in response.get_data(as_text=True)
    finally:
        servicekit.close_app(app)
