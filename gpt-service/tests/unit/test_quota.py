"""The quota pause: in-process, or shared through Redis, and never an error when Redis is down."""

from __future__ import annotations

import socket

from gpt_service.adapters.quota import LocalQuotaPause, RedisQuotaPause, make_quota_pause


def test_local_pause_lasts_the_cooldown(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("gpt_service.adapters.quota.time.monotonic", lambda: now[0])
    pause = LocalQuotaPause(60)
    assert not pause.active()
    pause.start()
    now[0] += 59
    assert pause.active()
    now[0] += 2
    assert not pause.active()


def test_redis_unreachable_falls_back_to_the_process_pause():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    pause = make_quota_pause(f"redis://127.0.0.1:{port}/0", 60)
    assert isinstance(pause, RedisQuotaPause)
    assert not pause.active()  # unknown is "not paused", not an exception
    pause.start()
    assert pause.active()


def test_without_redis_the_pause_is_local():
    assert isinstance(make_quota_pause(None, 60), LocalQuotaPause)
