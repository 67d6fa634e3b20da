"""dispatch-service is ready exactly when its DynamoDB endpoint answers (moto's real AWS server here)."""

from __future__ import annotations

import pytest
from dispatch_service import create_app
from dispatch_service.settings import Settings
from testkit.servers import free_port

pytestmark = pytest.mark.integration


def test_ready_when_dynamodb_answers(aws_env: str) -> None:
    app = create_app(Settings(jwt_secret="s" * 64, aws_endpoint_url=aws_env))
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"]["dynamodb"]["status"] == "up"


def test_not_ready_when_dynamodb_is_unreachable(aws_env: str) -> None:
    app = create_app(Settings(jwt_secret="s" * 64, aws_endpoint_url=f"http://127.0.0.1:{free_port()}"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["dynamodb"]["status"] == "down"
