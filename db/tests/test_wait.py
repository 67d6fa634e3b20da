"""The migrations one-shot waits for a database that is still starting, for a bounded time, then gives up
with a message instead of a stack trace."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from suite_db import alembic_config, heads
from suite_db.cli import main
from suite_db.wait import wait_for_database
from testkit.database import empty_database
from testkit.servers import free_port

pytestmark = pytest.mark.integration


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _forward_later(listen_port: int, target_port: int, delay: float, stop: threading.Event) -> None:
    """After `delay` seconds, accept on `listen_port` and forward each connection to Postgres: until then,
    connections are refused, as they are while a first boot's server still restarts after initdb."""
    time.sleep(delay)
    server = socket.create_server(("127.0.0.1", listen_port))
    server.settimeout(0.2)
    with server:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(("127.0.0.1", target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def test_waits_until_the_database_accepts_connections(postgres_url):
    real = make_url(postgres_url)
    port = free_port()
    stop = threading.Event()
    forwarder = threading.Thread(target=_forward_later, args=(port, real.port, 1.5, stop), daemon=True)
    started = time.monotonic()
    forwarder.start()
    try:
        wait_for_database(real.set(port=port).render_as_string(hide_password=False), timeout_seconds=20)
    finally:
        stop.set()
        forwarder.join(5)
    assert time.monotonic() - started >= 1.5


def test_upgrade_gives_up_after_the_bounded_wait_with_a_message(capsys):
    url = f"postgresql+psycopg://suite:x@127.0.0.1:{free_port()}/suite"
    started = time.monotonic()
    assert main(["upgrade", "--url", url, "--wait-seconds", "1"]) == 1
    elapsed = time.monotonic() - started
    assert 1 <= elapsed < 15
    assert "database not reachable after 1 s" in capsys.readouterr().err


def test_upgrade_through_the_command_applies_every_head(postgres_url):
    with empty_database(postgres_url, "wait") as url:
        assert main(["upgrade", "--url", url, "--wait-seconds", "5"]) == 0
        engine = create_engine(url)
        with engine.connect() as connection:
            applied = set(connection.execute(text("SELECT version_num FROM public.alembic_version")).scalars())
        engine.dispose()
    assert applied == set(heads())


def test_heads_lists_the_heads_of_the_migration_files(capsys):
    assert main(["heads"]) == 0
    expected = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert set(capsys.readouterr().out.split()) == expected and len(expected) >= 2
