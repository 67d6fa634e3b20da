"""Helpers of dispatch-service's tests: a day, a package, the test secret."""

from __future__ import annotations

import datetime as dt
import socket
import threading

from testkit.servers import free_port

JWT_SECRET = "dispatch-test-secret-long-enough-for-hs256-0123456789"
DAY = dt.date(2026, 11, 30)


def package(package_id: str, **overrides) -> dict:
    base = {
        "package_id": package_id,
        "weight": 10.0,
        "volume": 20.0,
        "region": "north",
        "distance": 15.0,
        "perishable": False,
        "hazmat_class": None,
        "destination": f"{package_id} Main St",
    }
    return {**base, **overrides}


class Outage:
    """A TCP proxy in front of moto's server: `cut()` drops every connection and refuses new ones, as an AWS
    endpoint that goes away does; `restore()` listens again. moto keeps its data throughout."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list = []
        self._listener = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            sockets, self._sockets = [self._listener, *self._sockets], []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.close()
                except OSError:
                    pass
