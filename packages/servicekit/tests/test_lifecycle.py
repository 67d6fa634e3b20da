"""Background work starts once the process serves and stops on shutdown: in order, each part once, the started
ones closed when a later one fails to start, and under gunicorn when a worker exits."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest
import servicekit
from servicekit import Lifecycle
from servicekit_sample import SECRET, Settings
from testkit.servers import free_port, start_process


class Part:
    def __init__(self, name: str, journal: list[str], *, fail_start: bool = False, fail_close: bool = False):
        self.name, self.journal, self.fail_start, self.fail_close = name, journal, fail_start, fail_close

    def start(self) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")
        self.journal.append(f"start {self.name}")

    def close(self) -> None:
        self.journal.append(f"close {self.name}")
        if self.fail_close:
            raise RuntimeError(f"{self.name} cannot close")


def test_parts_start_in_order_once_and_close_in_reverse_once() -> None:
    journal: list[str] = []
    lifecycle = Lifecycle(Part("a", journal), Part("b", journal))
    lifecycle.start()
    lifecycle.start()
    assert lifecycle.running
    lifecycle.close()
    lifecycle.close()
    assert journal == ["start a", "start b", "close b", "close a"]
    with pytest.raises(RuntimeError):
        lifecycle.start()


def test_a_part_that_fails_to_start_closes_those_started() -> None:
    journal: list[str] = []
    lifecycle = Lifecycle(Part("a", journal), Part("b", journal, fail_start=True), Part("c", journal))
    with pytest.raises(RuntimeError, match="b cannot start"):
        lifecycle.start()
    assert journal == ["start a", "close a"]
    assert not lifecycle.running


def test_a_part_that_fails_to_close_does_not_keep_the_others_running() -> None:
    journal: list[str] = []
    lifecycle = Lifecycle(Part("a", journal), Part("b", journal, fail_close=True))
    lifecycle.start()
    lifecycle.close()
    assert journal == ["start a", "start b", "close b", "close a"]


def test_an_app_starts_its_lifecycle_and_close_app_stops_it(tmp_path) -> None:
    journal: list[str] = []
    app = servicekit.create_app(Settings(jwt_secret=SECRET, log_dir=tmp_path / "logs"), import_name=__name__)
    servicekit.install_lifecycle(app, Lifecycle(Part("relay", journal)))
    assert journal == ["start relay"]
    servicekit.close_app(app)
    assert journal == ["start relay", "close relay"]


def test_building_an_app_without_start_starts_nothing(tmp_path) -> None:
    journal: list[str] = []
    app = servicekit.create_app(Settings(jwt_secret=SECRET, log_dir=tmp_path / "logs"), import_name=__name__)
    servicekit.install_lifecycle(app, Lifecycle(Part("relay", journal)), start=False)
    assert journal == []


@pytest.mark.integration
def test_each_gunicorn_worker_starts_its_parts_and_closes_them_when_it_exits(tmp_path) -> None:
    journal = tmp_path / "journal"
    (tmp_path / "lifecycle_app.py").write_text(
        textwrap.dedent(
            f"""
            import os
            import servicekit
            from servicekit import Lifecycle
            from servicekit_sample import SECRET, Settings

            class Part:
                def start(self):
                    with open({str(journal)!r}, "a") as f:
                        f.write(f"start {{os.getpid()}}\\n")

                def close(self):
                    with open({str(journal)!r}, "a") as f:
                        f.write(f"close {{os.getpid()}}\\n")

            def create_app():
                app = servicekit.create_app(Settings(jwt_secret=SECRET, log_dir={str(tmp_path / "logs")!r}),
                                            import_name=__name__)
                servicekit.install_lifecycle(app, Lifecycle(Part()))
                return app
            """
        )
    )
    port = free_port()
    (tmp_path / "gunicorn.conf.py").write_text(
        "from servicekit.gunicorn_conf import child_exit, settings_for\n"
        f"globals().update(settings_for('lifecycle-test', default_port={port}))\n"
        "workers = 2\n"
        "wsgi_app = 'lifecycle_app:create_app()'\n"
    )
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(__file__).parent)]),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = start_process([gunicorn, "-c", "gunicorn.conf.py"], port=port, cwd=tmp_path, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not journal.exists() or journal.read_text().count("start") < 2):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    lines = journal.read_text().split()
    started = {pid for verb, pid in zip(lines[::2], lines[1::2], strict=True) if verb == "start"}
    closed = {pid for verb, pid in zip(lines[::2], lines[1::2], strict=True) if verb == "close"}
    assert len(started) == 2, "each worker starts its own parts"
    assert str(proc.pid) not in started, "the master starts nothing"
    assert closed == started, "each worker closes what it started when it exits"


def test_a_loop_runs_in_its_own_thread_until_closed_and_on_close_releases_last():
    import threading
    import time

    from servicekit import Lifecycle, Loop, OnClose

    order: list[str] = []

    class Ticker(Loop):
        name = "ticker"

        def __init__(self) -> None:
            super().__init__()
            self.ticks = 0
            self.thread_name = ""

        def run(self) -> None:
            self.thread_name = threading.current_thread().name
            while not self.stop_event.wait(0.01):
                self.ticks += 1
            order.append("loop stopped")

    ticker = Ticker()
    lifecycle = Lifecycle(OnClose(lambda: order.append("released")), ticker)
    lifecycle.start()
    ticker.start()  # a second start changes nothing
    deadline = time.monotonic() + 10
    while ticker.ticks < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ticker.running and ticker.thread_name == "ticker"
    lifecycle.close()
    assert not ticker.running
    assert order == ["loop stopped", "released"]
