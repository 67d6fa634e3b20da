"""R9: a deleted or demoted user's token, or one issued before a password change, stops working at once, on
fleet-api and on another service of the suite (audit-worker here; all six check tokens through servicekit), with
the token-version hash on a real Redis. What happens when that Redis is away, lost its data, or when a login and
a revocation interleave."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from pydantic import SecretStr
from servicekit.app import REVOCATION_EXTENSION
from servicekit.revocation import HASH_KEY, SYNCED_FIELD
from sqlalchemy import create_engine, text
from testkit.servers import free_port

from ..conftest import JWT_SECRET, add_user, deps_of, forget_login_failures

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"
ADMIN_EMAIL, ADMIN_PASSWORD = "root@fleet.example", "root-password-1"


class Suite:
    """fleet-api and audit-worker on the same token-version hash, with a logged-in admin."""

    def __init__(self, settings, auth_redis_url: str):
        from audit_worker import create_app as create_audit_app
        from audit_worker.settings import Settings as AuditSettings
        from fleet_api import create_app
        from fleet_api.adapters.passwords import hash_password

        self.settings = settings.model_copy(update={"auth_redis_url": SecretStr(auth_redis_url)})
        self.app = create_app(self.settings)
        self.deps = deps_of(self.app)
        forget_login_failures(self.settings.redis_url.get_secret_value())
        self.fleet = self.app.test_client()
        audit_settings = AuditSettings(jwt_secret=JWT_SECRET, audit_consumer="off", auth_redis_url=auth_redis_url)
        self.audit_app = create_audit_app(audit_settings)
        self.audit = self.audit_app.test_client()
        self.root = add_user(self.app, "Root", ADMIN_EMAIL, hash_password(ADMIN_PASSWORD), "admin")
        self.admin = self.bearer(self.login(ADMIN_EMAIL, ADMIN_PASSWORD))
        self.database_url = self.settings.database_url.get_secret_value()

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def login(self, email: str, password: str) -> str:
        response = self.fleet.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def user(self, role: str = "user", password: str = "user-password-1") -> tuple[dict, dict[str, str]]:
        body = {"name": "Uma", "email": f"uma-{uuid.uuid4().hex[:8]}@fleet.example", "password": password}
        created = self.fleet.post("/users", json={**body, "role": role}, headers=self.admin)
        assert created.status_code == 201, created.get_json()
        return created.get_json(), self.bearer(self.login(body["email"], password))

    def statuses(self, headers: dict[str, str]) -> tuple[int, int]:
        """What fleet-api and audit-worker answer the token."""
        return (
            self.fleet.get("/loads", headers=headers).status_code,
            self.audit.get("/audit-events", headers=headers).status_code,
        )

    def version(self, user_id: str) -> int | None:
        engine = create_engine(self.database_url)
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT token_version FROM fleet.users WHERE id = :id"), {"id": user_id}
            ).scalar_one_or_none()
        engine.dispose()
        return found

    def close(self) -> None:
        from servicekit import close_app

        close_app(self.app)
        for app in (self.app, self.audit_app):
            app.extensions[REVOCATION_EXTENSION].close()


@pytest.fixture()
def auth_redis(redis_url):
    url = redis_url.rsplit("/", 1)[0] + "/7"
    client = redis.Redis.from_url(url)
    client.delete(HASH_KEY)
    yield url
    client.delete(HASH_KEY)
    client.close()


@pytest.fixture()
def suite(settings, auth_redis):
    running = Suite(settings, auth_redis)
    yield running
    running.close()


def test_a_login_token_carries_the_version_and_works_on_every_service(suite) -> None:
    from servicekit import verify_token

    user, headers = suite.user()
    claims = verify_token(suite.settings, headers["Authorization"].split()[1])
    assert claims["ver"] == 0 and claims["sub"] == user["id"]
    assert suite.statuses(headers) == (200, 200)


def test_a_deleted_users_token_stops_working_at_once_everywhere(suite) -> None:
    user, headers = suite.user()
    assert suite.statuses(headers) == (200, 200)
    assert suite.fleet.delete(f"/users/{user['id']}", headers=suite.admin).status_code == 204
    assert suite.statuses(headers) == (401, 401)
    refused = suite.audit.get("/audit-events", headers=headers)
    assert refused.mimetype == PROBLEM and refused.get_json()["detail"] == "The token has been revoked; log in again."
    assert suite.fleet.get(f"/users/{user['id']}", headers=suite.admin).status_code == 404
    gone = suite.fleet.post("/auth/login", json={"email": user["email"], "password": "user-password-1"})
    assert gone.status_code == 401
    assert suite.fleet.delete(f"/users/{user['id']}", headers=suite.admin).status_code == 404


def test_a_demoted_admins_token_stops_working_at_once_and_its_next_login_is_a_users(suite) -> None:
    admin, headers = suite.user(role="admin")
    new_user = {"name": "N", "email": f"n-{uuid.uuid4().hex[:8]}@fleet.example"}
    assert suite.fleet.post("/users", json=new_user, headers=headers).status_code == 201
    demoted = suite.fleet.patch(f"/users/{admin['id']}", json={"role": "user"}, headers=suite.admin)
    assert demoted.status_code == 200 and demoted.get_json()["role"] == "user"
    assert suite.statuses(headers) == (401, 401)
    assert suite.version(admin["id"]) == 1
    again = suite.bearer(suite.login(admin["email"], "user-password-1"))
    assert suite.statuses(again) == (200, 200)
    other = {"name": "O", "email": f"o-{uuid.uuid4().hex[:8]}@fleet.example"}
    assert suite.fleet.post("/users", json=other, headers=again).status_code == 403


def test_a_rename_or_a_promotion_revokes_nothing(suite) -> None:
    user, headers = suite.user()
    renamed = suite.fleet.patch(f"/users/{user['id']}", json={"name": "Una"}, headers=suite.admin)
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Una"
    promoted = suite.fleet.patch(f"/users/{user['id']}", json={"role": "admin"}, headers=suite.admin)
    assert promoted.get_json()["role"] == "admin"
    assert suite.statuses(headers) == (200, 200)  # still a user's token until the next login
    assert suite.version(user["id"]) == 0
    unchanged = suite.fleet.patch(f"/users/{user['id']}", json={}, headers=suite.admin)
    assert unchanged.status_code == 200 and unchanged.get_json()["name"] == "Una"


def test_a_new_password_revokes_the_old_tokens_and_the_old_password(suite) -> None:
    user, headers = suite.user()
    changed = suite.fleet.put(f"/users/{user['id']}/password", json={"password": "brand-new-pass"}, headers=suite.admin)
    assert changed.status_code == 204
    assert suite.statuses(headers) == (401, 401)
    old = suite.fleet.post("/auth/login", json={"email": user["email"], "password": "user-password-1"})
    assert old.status_code == 401
    assert suite.statuses(suite.bearer(suite.login(user["email"], "brand-new-pass"))) == (200, 200)
    too_short = suite.fleet.put(f"/users/{user['id']}/password", json={"password": "short"}, headers=suite.admin)
    assert too_short.status_code == 422
    unknown = suite.fleet.put(f"/users/{uuid.uuid4()}/password", json={"password": "long-enough"}, headers=suite.admin)
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/users/{id}", {}),
        ("patch", "/users/{id}", {"role": "nobody"}),
        ("put", "/users/{id}/password", {}),
        ("delete", "/users/{id}", None),
        ("post", "/users", {}),
    ],
)
def test_the_admin_routes_refuse_a_user_before_reading_the_body(suite, method, path, body) -> None:
    victim, _ = suite.user()
    _, headers = suite.user()
    kwargs = {"json": body} if body is not None else {}
    response = getattr(suite.fleet, method)(path.format(id=victim["id"]), headers=headers, **kwargs)
    assert response.status_code == 403 and response.mimetype == PROBLEM
    assert suite.statuses(headers) == (200, 200)  # nothing of the victim's changed, the caller is still in


def test_the_last_admin_is_neither_deleted_nor_demoted_even_by_two_admins_at_once(suite) -> None:
    root_id = suite.root["id"]
    assert suite.fleet.delete(f"/users/{root_id}", headers=suite.admin).status_code == 409
    assert suite.fleet.patch(f"/users/{root_id}", json={"role": "user"}, headers=suite.admin).status_code == 409
    second, second_headers = suite.user(role="admin")

    def demote(target: str, headers) -> int:
        return suite.app.test_client().patch(f"/users/{target}", json={"role": "user"}, headers=headers).status_code

    # Each demotes the other at the same moment: one wins, the other finds itself the last admin (or revoked).
    with ThreadPoolExecutor(2) as pool:
        answers = sorted(pool.map(lambda a: demote(*a), [(second["id"], suite.admin), (str(root_id), second_headers)]))
    assert answers in ([200, 401], [200, 409]), answers
    engine = create_engine(suite.database_url)
    with engine.connect() as conn:
        admins = conn.execute(text("SELECT count(*) FROM fleet.users WHERE role = 'admin'")).scalar_one()
    engine.dispose()
    assert admins == 1


def test_without_redis_nothing_is_revoked_and_the_answer_is_503(suite, auth_redis, settings) -> None:
    """The revocation is published before the commit: if Redis cannot take it, Postgres does not either."""
    from fleet_api import create_app
    from servicekit import close_app

    user, headers = suite.user()
    dead = f"redis://127.0.0.1:{free_port()}/0"
    down_settings = suite.settings.model_copy(update={"auth_redis_url": SecretStr(dead)})
    down = create_app(down_settings)
    try:
        client = down.test_client()
        for method, path, body in (
            ("delete", f"/users/{user['id']}", None),
            ("patch", f"/users/{user['id']}", {"role": "admin"}),
            ("put", f"/users/{user['id']}/password", {"password": "another-password"}),
        ):
            kwargs = {"json": body} if body is not None else {}
            answer = getattr(client, method)(path, headers=suite.admin, **kwargs)
            # The admin's own token cannot be checked there either: refused before anything is tried.
            assert answer.status_code == 503 and answer.mimetype == PROBLEM, (method, answer.get_json())
            assert int(answer.headers["Retry-After"]) > 0
        # The use case itself, past the guard: Redis refuses the write, Postgres keeps the user as it was.
        from fleet_api.domain.models import PasswordChange
        from fleet_api.usecases import manage_users
        from servicekit.domain_errors import Unavailable

        down_deps = deps_of(down)
        admin_claims = {"scope": "user", "role": "admin", "sub": "x"}
        with pytest.raises(Unavailable):
            manage_users.delete_user(down_deps.uow(), down_deps.token_versions, admin_claims, uuid.UUID(user["id"]))
        with pytest.raises(Unavailable):
            manage_users.set_password(
                down_deps.uow(),
                down_deps.token_versions,
                admin_claims,
                uuid.UUID(user["id"]),
                PasswordChange(password="x" * 12),
            )
        assert suite.version(user["id"]) == 0
        assert suite.statuses(headers) == (200, 200)
        login = client.post("/auth/login", json={"email": user["email"], "password": "user-password-1"})
        assert login.status_code == 503 and "Retry-After" in login.headers
    finally:
        close_app(down)
        down.extensions[REVOCATION_EXTENSION].close()


def test_a_hash_lost_by_redis_is_rewritten_from_postgres_and_keeps_deleted_users_out(suite, auth_redis) -> None:
    kept, kept_headers = suite.user()
    gone, gone_headers = suite.user()
    assert suite.fleet.delete(f"/users/{gone['id']}", headers=suite.admin).status_code == 204
    store = redis.Redis.from_url(auth_redis)
    try:
        store.flushdb()  # a Redis restart without persistence
        deadline = time.monotonic() + 10
        while not store.hexists(HASH_KEY, SYNCED_FIELD):
            assert time.monotonic() < deadline, "fleet-api never rewrote the token-version hash"
            time.sleep(0.05)
        assert store.hget(HASH_KEY, kept["id"]) == b"0"
        assert store.hget(HASH_KEY, gone["id"]) is None
    finally:
        store.close()
    assert suite.statuses(kept_headers) == (200, 200)
    assert suite.statuses(gone_headers) == (401, 401)


def test_a_password_changed_while_a_login_checks_it_gives_that_login_no_token(suite) -> None:
    """The worst interleaving of a login and a revocation: the password is verified, then (the row held by the
    revocation) changed and committed; the login then reads the row again and refuses."""
    user, _ = suite.user()
    engine = create_engine(suite.database_url)
    answer: dict = {}
    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("SELECT 1 FROM fleet.users WHERE id = :id FOR UPDATE"), {"id": user["id"]})

        def log_in() -> None:
            answer["response"] = suite.app.test_client().post(
                "/auth/login", json={"email": user["email"], "password": "user-password-1"}
            )

        login = threading.Thread(target=log_in)
        login.start()
        # The login has verified the password and now waits for the row this transaction holds.
        waited = time.monotonic() + 10
        while not _waits_for_a_lock(engine):
            assert time.monotonic() < waited, "the login never reached the row lock"
            time.sleep(0.02)
        conn.execute(
            text("UPDATE fleet.users SET token_version = token_version + 1, password_hash = 'x' WHERE id = :id"),
            {"id": user["id"]},
        )
        tx.commit()
        login.join(30)
    engine.dispose()
    assert answer["response"].status_code == 401


def _waits_for_a_lock(engine) -> bool:
    """Whether a session waits for a row of fleet.users (asked on a connection of its own: within a transaction,
    pg_stat_activity shows the snapshot taken at its first read)."""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND query LIKE '%FROM fleet.users%FOR %'"
                )
            ).scalar_one()
        )


def test_logins_racing_a_deletion_never_leave_a_working_token(suite) -> None:
    """A storm of logins of one user while an admin deletes it: once the deletion has answered, no token any
    of those logins got works anywhere."""
    user, _ = suite.user()
    tokens: list[str] = []
    stop = threading.Event()

    def keep_logging_in() -> None:
        client = suite.app.test_client()
        while not stop.is_set():
            answer = client.post("/auth/login", json={"email": user["email"], "password": "user-password-1"})
            if answer.status_code == 200:
                tokens.append(answer.get_json()["access_token"])

    threads = [threading.Thread(target=keep_logging_in) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(tokens) < 3:  # the storm is under way: logins are being answered
        assert time.monotonic() < deadline, "no login succeeded: the storm tested nothing"
        time.sleep(0.02)
    deleted = suite.app.test_client().delete(f"/users/{user['id']}", headers=suite.admin)
    time.sleep(0.5)  # logins that were in flight during the deletion finish
    stop.set()
    for thread in threads:
        thread.join(30)
    assert deleted.status_code == 204
    assert {suite.statuses(suite.bearer(token)) for token in tokens} == {(401, 401)}


def test_a_revocation_redis_refuses_inside_the_transaction_changes_nothing_in_postgres(suite, auth_redis) -> None:
    """Paused between its checks and its write to Redis (the row held here), the deletion finds the hash lost
    (a flush meanwhile), so Redis refuses the write: the transaction rolls back, the user is still there."""
    user, headers = suite.user()
    engine = create_engine(suite.database_url)
    store = redis.Redis.from_url(auth_redis)
    answer: dict = {}
    try:
        with engine.connect() as conn:
            tx = conn.begin()
            conn.execute(text("SELECT 1 FROM fleet.users WHERE id = :id FOR UPDATE"), {"id": user["id"]})
            deletion = threading.Thread(
                target=lambda: answer.update(
                    response=suite.app.test_client().delete(f"/users/{user['id']}", headers=suite.admin)
                )
            )
            deletion.start()
            waited = time.monotonic() + 10
            while not _waits_for_a_lock(engine):
                assert time.monotonic() < waited, "the deletion never reached the row lock"
                time.sleep(0.02)
            store.hdel(HASH_KEY, SYNCED_FIELD)
            tx.rollback()
            deletion.join(30)
    finally:
        engine.dispose()
    response = answer["response"]
    assert response.status_code == 503 and response.mimetype == PROBLEM and "Retry-After" in response.headers
    assert suite.version(user["id"]) == 0
    deadline = time.monotonic() + 10
    while not store.hexists(HASH_KEY, SYNCED_FIELD):
        assert time.monotonic() < deadline, "fleet-api never rewrote the token-version hash"
        time.sleep(0.05)
    store.close()
    assert suite.statuses(headers) == (200, 200)
    assert suite.fleet.delete(f"/users/{user['id']}", headers=suite.admin).status_code == 204
    assert suite.statuses(headers) == (401, 401)
