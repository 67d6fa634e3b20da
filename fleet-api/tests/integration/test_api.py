"""fleet-api end to end through Flask's test client, on a real Postgres and a real Redis."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from ..conftest import DEMO_EMAIL, DEMO_PASSWORD, bearer_for, unique

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


def make_driver(client, auth, **extra):
    body = {"name": "Ann Lee", "licenseNumber": unique("LIC"), **extra}
    response = client.post("/drivers", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def make_load(client, auth, origin="Austin, TX", destination="Dallas, TX"):
    response = client.post(
        "/loads", json={"origin": origin, "destination": destination, "cargoType": "steel"}, headers=auth
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def rows(url, sql, **params):
    engine = create_engine(url)
    with engine.connect() as conn:
        result = [dict(r) for r in conn.execute(text(sql), params).mappings()]
    engine.dispose()
    return result


# --- auth -----------------------------------------------------------------------------------------


@pytest.mark.demo_user
def test_login_returns_a_bearer_token_other_services_can_verify(client, settings):
    from servicekit import verify_token

    response = client.post("/auth/login", json={"email": DEMO_EMAIL.upper(), "password": DEMO_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == settings.jwt_ttl_seconds
    assert verify_token(settings, body["access_token"])["email"] == DEMO_EMAIL


@pytest.mark.demo_user
@pytest.mark.parametrize("email, password", [(DEMO_EMAIL, "wrong-password"), ("nobody@fleet.example", DEMO_PASSWORD)])
def test_wrong_credentials_are_401_without_saying_which_part(client, email, password):
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 401 and response.mimetype == PROBLEM
    assert response.get_json()["detail"] == "Wrong e-mail or password."


@pytest.mark.demo_user
def test_the_demo_user_is_seeded_once_with_an_argon2_hash(app, fleet_db, settings):
    from fleet_api import create_app

    create_app(settings)  # a second worker starting
    users = rows(fleet_db, "SELECT email, password_hash, role FROM fleet.users")
    assert len(users) == 1 and users[0]["email"] == DEMO_EMAIL and users[0]["role"] == "admin"
    assert users[0]["password_hash"].startswith("$argon2id$")


def test_every_endpoint_but_login_needs_a_token(client):
    for method, path in [
        ("get", "/loads"),
        ("post", "/drivers"),
        ("get", f"/assignments/{uuid.uuid4()}"),
        ("post", "/users"),
        ("get", "/drivers"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 401, path
        assert response.mimetype == PROBLEM
    bad = client.get("/loads", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401
    assert client.get("/healthz").status_code == 200


def test_readiness_reports_postgres_redis_and_the_outbox(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert checks["postgres"]["status"] == "up" and checks["redis"]["reachable"] is True
    assert checks["outbox"]["pending_events"] == 0


# --- users and drivers ----------------------------------------------------------------------------


def test_users_are_created_read_and_can_log_in(client, auth):
    response = client.post(
        "/users", json={"name": "Sam", "email": "Sam@Fleet.example", "password": "s3cret-pass"}, headers=auth
    )
    assert response.status_code == 201
    user = response.get_json()
    assert user["email"] == "sam@fleet.example" and "password" not in str(user).lower()
    assert response.headers["Location"] == f"/users/{user['id']}"
    assert client.get(f"/users/{user['id']}", headers=auth).get_json() == user
    login = client.post("/auth/login", json={"email": "sam@fleet.example", "password": "s3cret-pass"})
    assert login.status_code == 200
    duplicate = client.post("/users", json={"name": "Sam 2", "email": "SAM@fleet.example"}, headers=auth)
    assert duplicate.status_code == 409 and duplicate.mimetype == PROBLEM
    assert client.get(f"/users/{uuid.uuid4()}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x"},
        {"name": "x", "email": "not-an-email"},
        {"name": "x", "email": "a@b.example", "password": "short"},
        {"name": "", "email": "a@b.example"},
    ],
)
def test_malformed_users_are_422(client, auth, body):
    response = client.post("/users", json=body, headers=auth)
    assert response.status_code == 422 and response.mimetype == PROBLEM


# --- roles ----------------------------------------------------------------------------------------


def _create_user(client, auth, **extra):
    body = {"name": "Uma", "email": f"{unique('uma')}@fleet.example", **extra}
    response = client.post("/users", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_admin_creates_users_of_either_role_and_reads_any(client, auth):
    plain = _create_user(client, auth)
    admin = _create_user(client, auth, role="admin")
    assert plain["role"] == "user" and admin["role"] == "admin"
    assert client.get(f"/users/{plain['id']}", headers=auth).get_json() == plain
    assert client.get(f"/users/{admin['id']}", headers=auth).get_json() == admin


def test_a_user_reads_only_itself_and_creates_nobody(client, auth, settings):
    me = _create_user(client, auth)
    other = _create_user(client, auth)
    mine = bearer_for(settings, me["id"], "user", me["email"])
    assert client.get(f"/users/{me['id']}", headers=mine).get_json() == me
    for response in (
        client.get(f"/users/{other['id']}", headers=mine),
        client.get(f"/users/{uuid.uuid4()}", headers=mine),  # 403, not 404: existence is not disclosed
        client.post("/users", json={"name": "Eve", "email": "eve@fleet.example"}, headers=mine),
    ):
        assert response.status_code == 403 and response.mimetype == PROBLEM
        assert response.get_json()["title"] == "Forbidden"
    assert (
        rows(settings.database_url.get_secret_value(), "SELECT id FROM fleet.users WHERE email = 'eve@fleet.example'")
        == []
    )


@pytest.mark.parametrize(
    "request_body",
    [{"json": {}}, {"json": {"name": "x"}}, {"data": "{", "content_type": "application/json"}, {"data": "x"}],
    ids=["empty", "partial", "malformed", "not-json"],
)
def test_an_ordinary_user_gets_403_before_the_body_of_an_admin_route_is_read(client, auth, settings, request_body):
    """R9: POST /users with {} as an ordinary user is 403, not a 422 that lists the fields of an admin route."""
    me = _create_user(client, auth)
    mine = bearer_for(settings, me["id"], "user", me["email"])
    response = client.post("/users", headers=mine, **request_body)
    assert response.status_code == 403 and response.mimetype == PROBLEM, response.get_json()
    assert "errors" not in response.get_json()


def test_a_token_without_a_role_is_a_plain_user(client, auth, settings):
    from servicekit import issue_token

    me = _create_user(client, auth)
    legacy = {"Authorization": f"Bearer {issue_token(settings, me['id'], claims={'email': me['email']})[0]}"}
    assert client.get(f"/users/{me['id']}", headers=legacy).status_code == 200
    assert client.post("/users", json={"name": "x", "email": "x@fleet.example"}, headers=legacy).status_code == 403


def test_a_service_token_keeps_its_scope_and_has_no_say_over_users(client, auth, settings):
    from servicekit import service_token

    someone = _create_user(client, auth)
    service = {"Authorization": f"Bearer {service_token(settings)}"}
    assert client.get("/loads", headers=service).status_code == 200
    assert client.get(f"/users/{someone['id']}", headers=service).status_code == 403
    assert client.post("/users", json={"name": "x", "email": "x@fleet.example"}, headers=service).status_code == 403


@pytest.mark.demo_user
def test_login_tokens_carry_the_role_the_demo_user_is_admin(client, settings):
    from servicekit import verify_token

    demo = client.post("/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}).get_json()
    assert verify_token(settings, demo["access_token"])["role"] == "admin"
    admin = {"Authorization": f"Bearer {demo['access_token']}"}
    created = client.post(
        "/users", json={"name": "Pat", "email": "pat@fleet.example", "password": "pat-password"}, headers=admin
    )
    assert created.status_code == 201
    pat = client.post("/auth/login", json={"email": "pat@fleet.example", "password": "pat-password"}).get_json()
    assert verify_token(settings, pat["access_token"])["role"] == "user"
    as_pat = {"Authorization": f"Bearer {pat['access_token']}"}
    assert client.post("/users", json={"name": "y", "email": "y@fleet.example"}, headers=as_pat).status_code == 403


@pytest.mark.demo_user
def test_an_existing_plain_demo_user_is_made_admin_at_start_up(fleet_db, settings):
    from fleet_api import create_app
    from servicekit import close_app

    engine = create_engine(fleet_db)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO fleet.users (name, email, role) VALUES ('Demo', :email, 'user')"), {"email": DEMO_EMAIL}
        )
    engine.dispose()
    close_app(create_app(settings))
    assert rows(fleet_db, "SELECT role FROM fleet.users") == [{"role": "admin"}]


def test_drivers_are_created_listed_and_unique_by_license(client, auth):
    first = make_driver(client, auth, name="Ann")
    second = make_driver(client, auth, name="Bob", status="INACTIVE")
    assert first["status"] == "AVAILABLE" and second["status"] == "INACTIVE"
    listing = client.get("/drivers?limit=1", headers=auth).get_json()
    assert listing["total"] == 2 and [d["id"] for d in listing["items"]] == [second["id"]]
    inactive = client.get("/drivers?status=INACTIVE", headers=auth).get_json()
    assert [d["id"] for d in inactive["items"]] == [second["id"]]
    assert client.get(f"/drivers/{first['id']}", headers=auth).get_json() == first
    dup = client.post("/drivers", json={"name": "Eve", "licenseNumber": first["licenseNumber"]}, headers=auth)
    assert dup.status_code == 409
    assert client.get(f"/drivers/{uuid.uuid4()}", headers=auth).status_code == 404
    assert client.get("/drivers?limit=0", headers=auth).status_code == 422


# --- loads and the cache --------------------------------------------------------------------------


def test_loads_are_created_filtered_and_paginated(client, auth):
    loads = [make_load(client, auth, origin=f"City {i}") for i in range(3)]
    page = client.get("/loads?limit=2&offset=0", headers=auth).get_json()
    assert page["total"] == 3 and [x["id"] for x in page["items"]] == [loads[2]["id"], loads[1]["id"]]
    rest = client.get("/loads?limit=2&offset=2", headers=auth).get_json()
    assert [x["id"] for x in rest["items"]] == [loads[0]["id"]]
    client.patch(f"/loads/{loads[0]['id']}", json={"status": "CANCELLED"}, headers=auth)
    cancelled = client.get("/loads?status=CANCELLED", headers=auth).get_json()
    assert [x["id"] for x in cancelled["items"]] == [loads[0]["id"]]
    assert client.get("/loads?status=LOST", headers=auth).status_code == 422
    assert client.get("/loads?limit=101", headers=auth).status_code == 422
    assert client.get(f"/loads/{loads[1]['id']}", headers=auth).get_json() == loads[1]
    assert client.get(f"/loads/{uuid.uuid4()}", headers=auth).status_code == 404


def test_list_is_a_miss_then_a_hit_and_writes_invalidate_it(client, auth):
    load = make_load(client, auth)
    first = client.get("/loads", headers=auth)
    second = client.get("/loads", headers=auth)
    assert first.headers["X-Cache"] == "MISS" and second.headers["X-Cache"] == "HIT"
    assert first.get_json() == second.get_json()

    make_load(client, auth, origin="Houston, TX")  # create invalidates
    after_create = client.get("/loads", headers=auth)
    assert after_create.headers["X-Cache"] == "MISS" and after_create.get_json()["total"] == 2

    client.patch(f"/loads/{load['id']}", json={"destination": "El Paso, TX"}, headers=auth)  # update invalidates
    after_update = client.get("/loads", headers=auth)
    assert after_update.headers["X-Cache"] == "MISS"
    assert {x["destination"] for x in after_update.get_json()["items"]} == {"El Paso, TX", "Dallas, TX"}

    driver = make_driver(client, auth)
    client.post("/assignments", json={"driverId": driver["id"], "loadId": load["id"]}, headers=auth)
    after_assign = client.get("/loads", headers=auth)  # a status change caused by an assignment
    assert after_assign.headers["X-Cache"] == "MISS"
    assert next(x for x in after_assign.get_json()["items"] if x["id"] == load["id"])["status"] == "ASSIGNED"
    assert client.get("/loads", headers=auth).headers["X-Cache"] == "HIT"


def test_conditional_requests_get_304(client, auth):
    make_load(client, auth)
    etag = client.get("/loads", headers=auth).headers["ETag"]
    response = client.get("/loads", headers={**auth, "If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    make_load(client, auth)
    assert client.get("/loads", headers={**auth, "If-None-Match": etag}).status_code == 200


def test_load_updates_cannot_fake_assignment_states(client, auth):
    load = make_load(client, auth)
    assert client.patch(f"/loads/{load['id']}", json={"status": "ASSIGNED"}, headers=auth).status_code == 409
    assert client.patch(f"/loads/{load['id']}", json={"status": "COMPLETED"}, headers=auth).status_code == 409
    assert client.patch(f"/loads/{load['id']}", json={"weight": 3}, headers=auth).status_code == 422
    assert client.patch(f"/loads/{uuid.uuid4()}", json={"origin": "X"}, headers=auth).status_code == 404


def test_redis_down_still_answers_from_postgres(settings, auth):
    from fleet_api import create_app
    from testkit.servers import free_port

    down = settings.model_copy(update={"redis_url": type(settings.redis_url)(f"redis://127.0.0.1:{free_port()}/0")})
    client = create_app(down).test_client()
    assert (
        client.post("/loads", json={"origin": "A", "destination": "B", "cargoType": "c"}, headers=auth).status_code
        == 201
    )
    for _ in range(2):
        response = client.get("/loads", headers=auth)
        assert response.status_code == 200 and response.headers["X-Cache"] == "MISS"
        assert response.get_json()["total"] == 1
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["redis"]["reachable"] is False


# --- assignments ----------------------------------------------------------------------------------


def test_assign_fetch_and_complete(client, auth, fleet_db):
    driver, load = make_driver(client, auth), make_load(client, auth)
    response = client.post("/assignments", json={"driverId": driver["id"], "loadId": load["id"]}, headers=auth)
    assert response.status_code == 201
    assignment = response.get_json()
    assert assignment["status"] == "ASSIGNED" and assignment["driver"]["status"] == "ON_LOAD"
    assert assignment["load"]["status"] == "ASSIGNED"
    fetched = client.get(f"/assignments/{assignment['id']}", headers=auth).get_json()
    assert fetched == assignment

    outbox = rows(fleet_db, "SELECT type, payload FROM fleet.job_outbox ORDER BY seq")
    assert [o["type"] for o in outbox] == ["load.assigned"]
    assert outbox[0]["payload"]["driver"]["name"] == "Ann Lee"
    assert outbox[0]["payload"]["load"]["origin"] == "Austin, TX"

    done = client.patch(f"/assignments/{assignment['id']}/status", json={"status": "COMPLETED"}, headers=auth)
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "COMPLETED" and body["completedAt"] and body["cancelledAt"] is None
    assert body["driver"]["status"] == "AVAILABLE" and body["load"]["status"] == "COMPLETED"
    again = client.patch(f"/assignments/{assignment['id']}/status", json={"status": "CANCELLED"}, headers=auth)
    assert again.status_code == 409 and again.mimetype == PROBLEM

    types = [r["type"] for r in rows(fleet_db, "SELECT type FROM fleet.job_outbox ORDER BY seq")]
    assert types == ["load.assigned", "load.completed"]
    lifecycle = rows(
        fleet_db, "SELECT type FROM fleet.load_events WHERE load_id = :id ORDER BY created_at", id=load["id"]
    )
    assert [e["type"] for e in lifecycle] == ["load.created", "load.assigned", "load.completed"]


def test_one_active_load_per_driver_and_one_driver_per_load(client, auth, fleet_db):
    ann, bob = make_driver(client, auth), make_driver(client, auth, name="Bob")
    first, second = make_load(client, auth), make_load(client, auth)
    assert (
        client.post("/assignments", json={"driverId": ann["id"], "loadId": first["id"]}, headers=auth).status_code
        == 201
    )
    busy_driver = client.post("/assignments", json={"driverId": ann["id"], "loadId": second["id"]}, headers=auth)
    assert busy_driver.status_code == 409 and "active load" in busy_driver.get_json()["detail"]
    busy_load = client.post("/assignments", json={"driverId": bob["id"], "loadId": first["id"]}, headers=auth)
    assert busy_load.status_code == 409 and "already assigned" in busy_load.get_json()["detail"]
    # Each refusal names the rule that refused it.
    for refused, rule in ((busy_driver, "driver_busy"), (busy_load, "load_taken")):
        assert refused.mimetype == PROBLEM
        assert refused.get_json()["title"] == "Conflict" and refused.get_json()["code"] == rule
    active = rows(fleet_db, "SELECT count(*) AS n FROM fleet.driver_load_assignments WHERE status = 'ASSIGNED'")
    assert active[0]["n"] == 1
    assert [r["type"] for r in rows(fleet_db, "SELECT type FROM fleet.job_outbox")] == ["load.assigned"]


def test_cancel_frees_driver_and_reopens_load(client, auth, fleet_db):
    driver, load, other = make_driver(client, auth), make_load(client, auth), make_load(client, auth)
    assignment = client.post(
        "/assignments", json={"driverId": driver["id"], "loadId": load["id"]}, headers=auth
    ).get_json()
    cancelled = client.patch(
        f"/assignments/{assignment['id']}/status", json={"status": "CANCELLED"}, headers=auth
    ).get_json()
    assert cancelled["status"] == "CANCELLED" and cancelled["cancelledAt"]
    assert cancelled["load"]["status"] == "OPEN" and cancelled["driver"]["status"] == "AVAILABLE"
    assert (
        client.post("/assignments", json={"driverId": driver["id"], "loadId": other["id"]}, headers=auth).status_code
        == 201
    )
    types = [r["type"] for r in rows(fleet_db, "SELECT type FROM fleet.job_outbox ORDER BY seq")]
    assert types == ["load.assigned", "load.cancelled", "load.assigned"]


def test_inactive_drivers_and_closed_loads_are_refused(client, auth):
    inactive = make_driver(client, auth, status="INACTIVE")
    load = make_load(client, auth)
    assert (
        client.post("/assignments", json={"driverId": inactive["id"], "loadId": load["id"]}, headers=auth).status_code
        == 409
    )
    client.patch(f"/loads/{load['id']}", json={"status": "CANCELLED"}, headers=auth)
    driver = make_driver(client, auth)
    refused = client.post("/assignments", json={"driverId": driver["id"], "loadId": load["id"]}, headers=auth)
    assert refused.status_code == 409 and "CANCELLED" in refused.get_json()["detail"]


def test_unknown_driver_or_load_is_404(client, auth):
    driver, load = make_driver(client, auth), make_load(client, auth)
    for body in (
        {"driverId": str(uuid.uuid4()), "loadId": load["id"]},
        {"driverId": driver["id"], "loadId": str(uuid.uuid4())},
    ):
        response = client.post("/assignments", json=body, headers=auth)
        assert response.status_code == 404 and response.mimetype == PROBLEM
    assert client.get(f"/assignments/{uuid.uuid4()}", headers=auth).status_code == 404
    assert (
        client.patch(f"/assignments/{uuid.uuid4()}/status", json={"status": "COMPLETED"}, headers=auth).status_code
        == 404
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"driverId": "x", "loadId": "y"},
        {"driverId": str(uuid.uuid4())},
        [1, 2],
        {"driverId": str(uuid.uuid4()), "loadId": str(uuid.uuid4()), "x": 1},
    ],
)
def test_malformed_assignment_bodies_are_422(client, auth, body):
    response = client.post("/assignments", json=body, headers=auth)
    assert response.status_code == 422 and response.mimetype == PROBLEM


def test_bad_status_transitions_are_422_or_409(client, auth):
    driver, load = make_driver(client, auth), make_load(client, auth)
    assignment = client.post(
        "/assignments", json={"driverId": driver["id"], "loadId": load["id"]}, headers=auth
    ).get_json()
    url = f"/assignments/{assignment['id']}/status"
    assert client.patch(url, json={"status": "LOST"}, headers=auth).status_code == 422
    assert client.patch(url, json={"status": "ASSIGNED"}, headers=auth).status_code == 409
    assert client.patch(url, data="{", headers={**auth, "Content-Type": "application/json"}).status_code == 400
    assert client.patch(url, data="status=COMPLETED", headers=auth).status_code == 415


def test_openapi_documents_every_endpoint(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in (
        "/auth/login",
        "/users",
        "/users/{user_id}",
        "/drivers",
        "/drivers/{driver_id}",
        "/loads",
        "/loads/{load_id}",
        "/assignments",
        "/assignments/{assignment_id}",
        "/assignments/{assignment_id}/status",
    ):
        assert path in paths, path
    assert "security" not in paths["/auth/login"]["post"]
    assert "409" in paths["/assignments"]["post"]["responses"]


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/drivers", {"name": "A\u0000B", "licenseNumber": "L-1"}),
        ("post", "/loads", {"origin": "A", "destination": "B\u0000", "cargoType": "c"}),
        ("post", "/users", {"name": "x", "email": "a\u0000@b.example"}),
        ("post", "/auth/login", {"email": "a\u0000@b.example", "password": "x"}),
        ("get", "/loads?offset=99999999999999999999", None),
        ("get", "/drivers?limit=abc", None),
    ],
)
def test_hostile_input_is_a_4xx_never_a_500(client, auth, method, path, body):
    response = (
        getattr(client, method)(path, json=body, headers=auth) if body else getattr(client, method)(path, headers=auth)
    )
    assert 400 <= response.status_code < 500, response.get_json()
    assert response.mimetype == PROBLEM


def test_postgres_down_is_a_503_with_retry_after(settings, auth):
    from fleet_api import create_app
    from testkit.servers import free_port

    down = settings.model_copy(
        update={"database_url": type(settings.database_url)(f"postgresql://postgres@127.0.0.1:{free_port()}/x")}
    )
    client = create_app(down).test_client()
    response = client.get("/drivers", headers=auth)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.mimetype == PROBLEM and "127.0.0.1" not in response.get_data(as_text=True)
    assert client.get("/readyz").status_code == 503
