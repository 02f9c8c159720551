"""Slow clients: connections that send the start of a request, then one byte a second.

Half of them send a POST's headers whole and then trickle its body; the other half trickle
their headers. A connection the server closes (its request deadline) is opened again, so that
``count`` are held open for as long as the ``with`` block lasts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

BODY_LENGTH = 8000  # under MAX_CONTENT_LENGTH: a request the server must wait for


def _opening(number: int) -> bytes:
    if number % 2:
        return b"GET /api/health HTTP/1.1\r\nHost: bench\r\nX-Slow: "
    return (
        b"POST /api/consent HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(BODY_LENGTH).encode() + b"\r\n\r\n"
    )


class SlowClients:
    """``with SlowClients(port, 64) as slow:`` holds 64 slow clients open on 127.0.0.1."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.count = count
        self.sockets: dict[int, socket.socket] = {}
        #: Connections the server closed (and that were opened again).
        self.closed = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._hold, name="slow-clients", daemon=True)

    def _open(self, number: int) -> None:
        with contextlib.suppress(OSError):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(_opening(number))
            sock.setblocking(False)
            self.sockets[number] = sock

    def _hold(self) -> None:
        while not self.stopped.is_set():
            for number in range(self.count):
                sock = self.sockets.get(number)
                if sock is None:
                    self._open(number)
                    continue
                try:
                    # Anything the server sent (its 408) means it gave up on this request.
                    with contextlib.suppress(BlockingIOError):
                        if sock.recv(4096) is not None:
                            raise ConnectionError("answered")
                    sock.send(b"x")
                except OSError:
                    sock.close()
                    del self.sockets[number]
                    self.closed += 1
            self.stopped.wait(1.0)

    @property
    def open(self) -> int:
        return len(self.sockets)

    def __enter__(self) -> SlowClients:
        for number in range(self.count):
            self._open(number)
        self.thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stopped.set()
        self.thread.join()
        for sock in self.sockets.values():
            sock.close()
        self.sockets.clear()
