"""R9: a person's token stops working at once when its user's token version goes up or the user goes away, in
every process that shares the token-version hash; what happens while Redis cannot be reached.

The hash is written here by hand, as fleet-api writes it (fleet_api/adapters/token_versions.py); fleet-api's own
tests drive it through the admin endpoints.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from servicekit import issue_token, service_token
from servicekit.app import REVOCATION_EXTENSION
from servicekit.revocation import HASH_KEY, SYNCED_FIELD
from servicekit_sample import SECRET, Settings, build_app
from testkit.servers import free_port, start_process, stop_process

pytestmark = pytest.mark.integration


@pytest.fixture()
def own_redis() -> Iterator[tuple[str, subprocess.Popen]]:
    """A Redis of this test's own, so that the test may stop, freeze and flush it."""
    port = free_port()
    proc = start_process(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port=port
    )
    try:
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
        stop_process(proc)


@pytest.fixture()
def store(own_redis) -> redis.Redis:
    client = redis.Redis.from_url(own_redis[0])
    client.hset(HASH_KEY, mapping={SYNCED_FIELD: "1", "alice": 3, "bob": 0})
    yield client
    client.close()


def make_app(url: str, tmp_path, **overrides):
    settings = Settings(jwt_secret=SECRET, log_dir=tmp_path / "logs", auth_redis_url=url, **overrides)
    app = build_app(settings)
    return app, settings


@pytest.fixture()
def services(own_redis, store, tmp_path):
    """Two services on the same hash, as fleet-api and dispatch-service are."""
    apps = [make_app(own_redis[0], tmp_path)[0] for _ in range(2)]
    yield [app.test_client() for app in apps]
    for app in apps:
        app.extensions[REVOCATION_EXTENSION].close()


def bearer(settings, subject: str, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, subject, claims=claims)[0]}"}


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings(jwt_secret=SECRET, log_dir=tmp_path / "logs")


def statuses(clients, headers) -> list[int]:
    return [client.get("/items", headers=headers).status_code for client in clients]


def test_a_raised_version_or_a_removed_user_is_refused_by_every_service_on_the_next_request(
    services, store, settings
) -> None:
    alice = bearer(settings, "alice", ver=3)
    bob = bearer(settings, "bob")  # no ver claim: version 0, as tokens issued before versions were
    assert statuses(services, alice) == [200, 200]
    assert statuses(services, bob) == [200, 200]

    store.hset(HASH_KEY, "alice", 4)  # demoted, or a new password
    assert statuses(services, alice) == [401, 401]
    assert statuses(services, bearer(settings, "alice", ver=4)) == [200, 200]  # her next login's token
    store.hdel(HASH_KEY, "bob")  # deleted
    assert statuses(services, bob) == [401, 401]
    response = services[0].get("/items", headers=bob)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "The token has been revoked; log in again."
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "claims",
    [{"ver": 2}, {"ver": "3"}, {"ver": 3.0}, {"ver": True}, {"ver": None}, {"ver": [3]}],
    ids=["older", "string", "float", "bool", "null", "list"],
)
def test_a_version_claim_that_is_not_the_current_integer_is_refused(services, settings, claims) -> None:
    assert statuses(services, bearer(settings, "alice", **claims)) == [401, 401]


def test_unknown_users_are_refused_and_service_tokens_are_not_looked_up(services, settings) -> None:
    assert statuses(services, bearer(settings, "mallory")) == [401, 401]
    service = {"Authorization": f"Bearer {service_token(settings)}"}
    assert statuses(services, service) == [200, 200]


def test_a_storm_of_requests_around_a_revocation_never_accepts_the_token_after_it(services, store, settings) -> None:
    """Threads hammer both services while the version goes up: every answer that began after the write is 401."""
    from concurrent.futures import ThreadPoolExecutor

    alice = bearer(settings, "alice", ver=3)
    revoked_at: list[float] = []

    def hammer(client) -> list[tuple[float, float, int]]:
        seen = []
        for _ in range(150):
            started = time.monotonic()
            status = client.get("/items", headers=alice).status_code
            seen.append((started, time.monotonic(), status))
        return seen

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(hammer, services[i % 2]) for i in range(6)]
        time.sleep(0.05)
        writing_at = time.monotonic()
        store.hset(HASH_KEY, "alice", 4)
        store.ping()  # as fleet-api does before it answers: Redis has written the push to every tracker by now
        revoked_at.append(time.monotonic())
        answers = [answer for future in futures for answer in future.result()]
    late = [status for started, _, status in answers if started > revoked_at[0]]
    assert late and set(late) == {401}
    # Answers that ended before the write was sent were decided on the old version; those that overlap the
    # write (sent, applied, pushed, pinged) may be either, since the revocation takes effect inside it.
    early = [status for _, ended, status in answers if ended < writing_at]
    assert set(early) <= {200}


def test_an_incomplete_hash_at_start_is_503_with_retry_after(own_redis, tmp_path, settings) -> None:
    app, _ = make_app(own_redis[0], tmp_path)  # nothing written yet: fleet-api has not synced
    try:
        response = app.test_client().get("/items", headers=bearer(settings, "alice"))
        assert response.status_code == 503 and response.mimetype == "application/problem+json"
        assert int(response.headers["Retry-After"]) > 0
        service = {"Authorization": f"Bearer {service_token(settings)}"}
        assert app.test_client().get("/items", headers=service).status_code == 200
    finally:
        app.extensions[REVOCATION_EXTENSION].close()


def test_redis_down_decides_from_the_last_copy_for_the_grace_then_fails_closed(own_redis, store, tmp_path) -> None:
    url, proc = own_redis
    app, settings = make_app(url, tmp_path, auth_redis_grace_seconds=1.5)
    client = app.test_client()
    alice, bob = bearer(settings, "alice", ver=3), bearer(settings, "bob")
    store.hdel(HASH_KEY, "bob")
    try:
        assert client.get("/items", headers=alice).status_code == 200
        proc.terminate()
        proc.wait(10)
        # Within the grace: the copy held when Redis went away (fleet-api cannot revoke without Redis either).
        assert client.get("/items", headers=alice).status_code == 200
        assert client.get("/items", headers=bob).status_code == 401
        time.sleep(1.7)
        refused = client.get("/items", headers=alice)
        assert refused.status_code == 503 and "Retry-After" in refused.headers
        assert client.get("/items", headers=bob).status_code == 503
    finally:
        app.extensions[REVOCATION_EXTENSION].close()


def test_redis_back_after_an_outage_is_read_again_before_it_is_trusted(own_redis, tmp_path) -> None:
    url, proc = own_redis
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    client_redis = redis.Redis.from_url(url)
    client_redis.hset(HASH_KEY, mapping={SYNCED_FIELD: "1", "alice": 3})
    app, settings = make_app(url, tmp_path, auth_redis_grace_seconds=0.2)
    alice = bearer(settings, "alice", ver=3)
    restarted = None
    try:
        assert app.test_client().get("/items", headers=alice).status_code == 200
        proc.terminate()
        proc.wait(10)
        time.sleep(0.3)
        assert app.test_client().get("/items", headers=alice).status_code == 503
        restarted = start_process(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port=port
        )
        # A Redis that comes back empty (no persistence) is incomplete: still refused until fleet-api rewrites it.
        time.sleep(1.1)  # the reconnect is tried once a second
        assert app.test_client().get("/items", headers=alice).status_code == 503
        client_redis.hset(HASH_KEY, mapping={SYNCED_FIELD: "2", "alice": 5})
        deadline = time.monotonic() + 5
        while app.test_client().get("/items", headers=bearer(settings, "alice", ver=5)).status_code != 200:
            assert time.monotonic() < deadline, "the rewritten hash was never read"
            time.sleep(0.05)
        assert app.test_client().get("/items", headers=alice).status_code == 401
    finally:
        app.extensions[REVOCATION_EXTENSION].close()
        client_redis.close()
        if restarted is not None:
            stop_process(restarted)


def test_a_redis_restarted_while_a_service_was_idle_is_asked_again_at_once(own_redis, tmp_path) -> None:
    """The first request after the restart finds the tracking connection closed and reconnects in the same
    request: no 503 for a Redis that is already back (the local stack's keeps its data; compose's is rewritten)."""
    url, proc = own_redis
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    seed = {SYNCED_FIELD: "1", "alice": 3}
    redis.Redis.from_url(url).hset(HASH_KEY, mapping=seed)
    app, settings = make_app(url, tmp_path, auth_redis_grace_seconds=0.2)
    alice = bearer(settings, "alice", ver=3)
    restarted = None
    try:
        assert app.test_client().get("/items", headers=alice).status_code == 200
        time.sleep(0.3)  # idle past the grace: the copy cannot be vouched for any more on its own
        proc.terminate()
        proc.wait(10)
        restarted = start_process(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port=port
        )
        back = redis.Redis.from_url(url)
        back.hset(HASH_KEY, mapping=seed)
        back.close()
        assert app.test_client().get("/items", headers=alice).status_code == 200
    finally:
        app.extensions[REVOCATION_EXTENSION].close()
        if restarted is not None:
            stop_process(restarted)


def test_a_flushed_hash_refuses_person_tokens_until_it_is_rewritten(services, store, settings) -> None:
    """A flush pushes an invalidation like a revocation does: the copy it outdated is not used, even within the
    grace, until fleet-api has written the hash again (503 meanwhile, never a token revoked just before)."""
    alice = bearer(settings, "alice", ver=3)
    assert statuses(services, alice) == [200, 200]
    store.flushall()
    # Redis sends the flush's push to the tracking connections in its own time; a PING answered after it means
    # the push is on their sockets (as fleet-api waits after its writes). Without it the next request may race it.
    store.ping()
    assert statuses(services, alice) == [503, 503]
    store.hset(HASH_KEY, mapping={SYNCED_FIELD: "2", "alice": 4})  # fleet-api's rewrite, a version higher
    assert statuses(services, alice) == [401, 401]
    assert statuses(services, bearer(settings, "alice", ver=4)) == [200, 200]


@pytest.mark.parametrize("fault", ["killed", "frozen"])
def test_a_push_read_as_redis_goes_away_outdates_the_copy(own_redis, store, tmp_path, fault) -> None:
    """Redis sends the revocation's push, then dies (the push and the end of the connection read together) or
    freezes (the push read, the copy's new read times out): no grace for a copy a push has outdated."""
    url, proc = own_redis
    app, settings = make_app(url, tmp_path)
    client = app.test_client()
    alice = bearer(settings, "alice", ver=3)
    try:
        assert client.get("/items", headers=alice).status_code == 200
        store.hset(HASH_KEY, "alice", 4)
        time.sleep(0.1)  # the push is on the tracking connection
        if fault == "killed":
            proc.terminate()
            proc.wait(10)
        else:
            os.kill(proc.pid, signal.SIGSTOP)
        assert client.get("/items", headers=alice).status_code == 503
        assert client.get("/items", headers=bearer(settings, "bob")).status_code == 503
    finally:
        if fault == "frozen":
            os.kill(proc.pid, signal.SIGCONT)
        app.extensions[REVOCATION_EXTENSION].close()


def test_a_frozen_redis_counts_as_lost_once_the_tracking_connection_stops_answering(own_redis, store, tmp_path):
    url, proc = own_redis
    app, settings = make_app(url, tmp_path, auth_redis_grace_seconds=0.5)
    versions = app.extensions[REVOCATION_EXTENSION]
    versions._ping_seconds, versions._pong_timeout = 0.2, 0.3
    client = app.test_client()
    alice = bearer(settings, "alice", ver=3)
    try:
        assert client.get("/items", headers=alice).status_code == 200
        os.kill(proc.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while client.get("/items", headers=alice).status_code == 200:
            assert time.monotonic() < deadline, "a mute tracking connection was never noticed"
            time.sleep(0.1)
        assert client.get("/items", headers=alice).status_code == 503
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        versions.close()


def test_without_auth_redis_url_revocation_is_off(settings) -> None:
    app = build_app(settings)
    assert app.extensions[REVOCATION_EXTENSION] is None
    assert app.test_client().get("/items", headers=bearer(settings, "anyone")).status_code == 200


def test_importing_servicekit_writes_no_metric(tmp_path) -> None:
    """gunicorn's master imports servicekit (its config does) before the multiprocess metrics folder exists."""
    import sys

    missing = tmp_path / "not-yet"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(missing)}
    done = subprocess.run([sys.executable, "-c", "import servicekit"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not missing.exists()
