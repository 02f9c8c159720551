"""The embedded HTTP server: waitress, with limits and deadlines that hold against slow clients.

waitress reads every request whole in its I/O thread before a worker thread sees it, so a
client that trickles its headers or body holds a socket, never a thread. What waitress lacks is
added here and nowhere else:

- a deadline for the whole request: a request whose headers and body have not all arrived
  ``REQUEST_TIMEOUT`` seconds after its first byte is answered 408 and the connection closed
  (waitress's own ``channel_timeout`` only closes connections that send nothing at all);
- the API's JSON error body and the security headers of ``security.api_headers`` on
  waitress's own error answers (400, 408, 413, 431), which the app never sees;
- a graceful stop: ``serve`` returns once every request under way has been answered.

The size limits are waitress's own and apply while the request is read, before the app is
called: ``MAX_CONTENT_LENGTH`` for bodies, chunked or not (413; for a chunked body waitress
counts its framing too), ``HEADER_LIMIT`` for the request line and headers together (431).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask
from waitress.utilities import Error

from consent_api.web import errors, security

#: Bytes of request line and headers together (gunicorn's limits were 4094 + 100 x 8190).
HEADER_LIMIT = 16 * 1024
#: Open connections per worker process; beyond it waitress leaves new ones in the backlog.
CONNECTION_LIMIT = 512
#: Seconds a connection may stay silent (an idle keep-alive connection) before it is closed.
IDLE_TIMEOUT = 60
#: How often, in seconds, the deadlines are checked.
CHECK_INTERVAL = 1.0
#: At a stop, how long what had already arrived is still taken in.
SETTLE_SECONDS = 0.2


class RequestTimeout(Error):  # type: ignore[misc]
    code = 408
    reason = "Request Timeout"


#: The server's own answers, in the API's error shape (``errors.error_body``).
SERVER_ERRORS = {
    400: ("bad_request", "The request could not be read."),
    408: ("request_timeout", "The request did not arrive in time; nothing was stored."),
    413: ("too_large", "The body is larger than this service accepts; nothing was stored."),
    431: ("headers_too_large", "The request's line and headers are too large."),
}


class SecureErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's error answer as the app's: a JSON error body and the security headers."""

    def execute(self) -> None:
        error = self.request.error
        code, message = SERVER_ERRORS.get(error.code, ("http_error", error.reason))
        body = json.dumps(errors.error_body(code, message)).encode("utf-8")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.response_headers.extend(self.channel.server.error_headers)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class Channel(HTTPChannel):  # type: ignore[misc]
    """A connection that remembers when the request it is receiving began."""

    error_task_class = SecureErrorTask
    request: Any = None  # waitress's parser of the request being received, if any
    request_started = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.monotonic()
        return bool(super().received(data))

    def time_out_request(self) -> None:
        """Answer the request still being received with 408; the connection then closes."""
        request = self.request
        request.error = RequestTimeout("the request did not arrive in time")
        request.completed = True
        self.request = None
        with self.requests_lock:
            self.requests.append(request)
            if len(self.requests) == 1:
                self.server.add_task(self)

    def idle(self) -> bool:
        """Whether no request is arriving, waiting for its answer or for its bytes to be sent."""
        return self.request is None and not self.requests and not self.total_outbufs_len


class Server(TcpWSGIServer):  # type: ignore[misc]
    """waitress's server on an already bound socket, with request deadlines."""

    channel_class = Channel

    def __init__(
        self, app: Any, sock: socket.socket, adj: Adjustments, request_timeout: float
    ) -> None:
        self.error_headers = list(security.api_headers(app).items())
        self.request_timeout = request_timeout
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        super().__init__(app, map={}, _sock=sock, adj=adj, bind_socket=False, sockinfo=sockinfo)

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        cutoff = time.monotonic() - self.request_timeout
        for channel in list(self.active_channels.values()):
            if channel.request is not None and channel.request_started < cutoff:
                channel.time_out_request()


def create(app: Flask, sock: socket.socket, threads: int) -> Server:
    """A server of ``app`` on the listening socket ``sock`` with ``threads`` worker threads."""
    adj = Adjustments(
        threads=threads,
        # waitress refuses a body of this many bytes or more, so the limit itself is allowed.
        # A chunked body's framing counts too: one within a few bytes a chunk of the limit is
        # refused (413) as well, never taken in part.
        max_request_body_size=int(app.config["MAX_CONTENT_LENGTH"]) + 1,
        max_request_header_size=HEADER_LIMIT,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=IDLE_TIMEOUT,
        cleanup_interval=CHECK_INTERVAL,
        # poll(), not select(): select() cannot watch descriptors above 1023.
        asyncore_use_poll=True,
        # No Server header: the software and its version are nobody's business.
        ident="",
    )
    return Server(app, sock, adj, float(app.config["REQUEST_TIMEOUT"]))


def serve(server: Server, stop: threading.Event, grace: float) -> None:
    """Serve until ``stop`` is set; then accept nothing new, close idle connections, and for at
    most ``grace`` seconds finish the requests under way (arriving or answered); then close
    every connection."""
    while not stop.is_set():
        wasyncore.loop(timeout=0.2, map=server._map, use_poll=True, count=1)
    # What reached the machine before the stop still counts: take the connections already
    # waiting and read the bytes already sent, so a request under way is not mistaken for an
    # idle connection (closed) or left in the listen queue (reset).
    settle = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < settle:
        wasyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
    server.accepting = False
    server.del_channel()
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        channels = list(server.active_channels.values())
        busy = [channel for channel in channels if not channel.idle()]
        for channel in channels:
            if channel.idle():
                channel.will_close = True  # between requests: nobody waits for anything
        if not busy:
            break
        wasyncore.loop(timeout=0.1, map=server._map, use_poll=True, count=1)
    server.task_dispatcher.shutdown(timeout=max(deadline - time.monotonic(), 0.1))
    wasyncore.close_all(server._map)
