"""Ports that listen and never answer, for tests that prove code connects to nothing: whoever connects to one
is seen in its backlog (`connected`)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator


@contextlib.contextmanager
def silent_listeners(count: int) -> Iterator[list[socket.socket]]:
    """``count`` listening sockets on free ports of 127.0.0.1 that accept nothing by themselves."""
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(socket.create_server(("127.0.0.1", 0))) for _ in range(count)]
        for server in servers:
            server.setblocking(False)
        yield servers


def connected(server: socket.socket) -> bool:
    """Whether anyone connected to ``server`` since it was made (or since the last look)."""
    try:
        peer, _ = server.accept()
    except BlockingIOError:
        return False
    peer.close()
    return True
