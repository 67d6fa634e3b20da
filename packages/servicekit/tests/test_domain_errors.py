"""One family of domain errors, translated to problem+json once, at the edge: each kind's status, the
Retry-After it asks for, and the facts a client needs to say the refusal in its own words."""

from __future__ import annotations

import pytest
import servicekit
from flask import Flask
from servicekit import domain_errors as de
from servicekit_sample import SECRET, Settings


@pytest.fixture()
def refusing_app(tmp_path) -> Flask:
    app = servicekit.create_app(Settings(jwt_secret=SECRET, log_dir=tmp_path / "logs"), import_name=__name__)
    raised: dict[str, de.DomainError] = {}

    @app.get("/refuse")
    @servicekit.public
    def refuse():
        raise raised["error"]

    app.config["RAISE"] = raised
    return app


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (de.Malformed("unreadable"), 400),
        (de.Unauthenticated("wrong password"), 401),
        (de.Forbidden("admins only"), 403),
        (de.NotFound("no such order"), 404),
        (de.Conflict("already cancelled"), 409),
        (de.TooLarge("over the memory budget"), 413),
        (de.Invalid("eggs are counted in units"), 422),
        (de.TooManyAttempts("slow down", retry_after=42), 429),
        (de.Unavailable("the table is unreachable"), 503),
    ],
)
def test_each_kind_has_its_status_and_the_detail_as_given(refusing_app, error, status) -> None:
    refusing_app.config["RAISE"]["error"] = error
    response = refusing_app.test_client().get("/refuse")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["detail"] == error.detail and body["title"]
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_retry_after_and_the_authentication_challenge_are_headers(refusing_app) -> None:
    client = refusing_app.test_client()
    refusing_app.config["RAISE"]["error"] = de.Conflict("a run of this day is in progress", retry_after=3, run_id="r1")
    response = client.get("/refuse")
    assert response.status_code == 409 and response.headers["Retry-After"] == "3"
    assert response.get_json()["run_id"] == "r1"
    assert "Location" not in response.headers
    conflict = de.Conflict("a run is in progress", run_id="r1")
    conflict.location = "/runs/r1"
    refusing_app.config["RAISE"]["error"] = conflict
    assert client.get("/refuse").headers["Location"] == "/runs/r1"
    refusing_app.config["RAISE"]["error"] = de.Unavailable("down")
    assert client.get("/refuse").headers["Retry-After"] == "5"
    refusing_app.config["RAISE"]["error"] = de.Unauthenticated("wrong password")
    assert client.get("/refuse").headers["WWW-Authenticate"].startswith("Bearer")


def test_a_refusal_about_one_input_names_it_as_a_422_would(refusing_app) -> None:
    refusing_app.config["RAISE"]["error"] = de.Invalid(
        "Eggs are counted in units.", code="unit_mismatch", field="extra_ingredients.eggs", unit="units"
    )
    body = refusing_app.test_client().get("/refuse").get_json()
    assert body["code"] == "unit_mismatch" and body["unit"] == "units"
    assert body["errors"] == [
        {"loc": "body.extra_ingredients.eggs", "msg": "Eggs are counted in units.", "type": "unit_mismatch"}
    ]


def test_a_flow_may_name_its_refusals_in_its_own_title(refusing_app) -> None:
    client = refusing_app.test_client()
    refusing_app.config["RAISE"]["error"] = de.TooManyAttempts(
        "try again in 42 s", retry_after=42, title="Sign-in failed"
    )
    response = client.get("/refuse")
    assert response.status_code == 429 and response.headers["Retry-After"] == "42"
    assert response.get_json()["title"] == "Sign-in failed"
    refusing_app.config["RAISE"]["error"] = de.TooManyAttempts("try again in 42 s", retry_after=42)
    assert client.get("/refuse").get_json()["title"] == "Too Many Requests"


def test_a_subclass_of_a_kind_answers_as_its_kind(refusing_app) -> None:
    class DriverBusy(de.Conflict):
        pass

    refusing_app.config["RAISE"]["error"] = DriverBusy("the driver has an active load")
    assert refusing_app.test_client().get("/refuse").status_code == 409


def test_the_domain_errors_carry_no_http() -> None:
    for kind in (de.DomainError, de.NotFound, de.Conflict, de.Invalid, de.Unavailable):
        assert not any(name in vars(kind) for name in ("status", "title", "headers"))
