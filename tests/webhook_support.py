"""A real HTTPS webhook receiver for the tests: a certificate for 127.0.0.1 from a CA made in
the test (trustme), the client told to trust that CA (``WEBHOOK_CA_BUNDLE``), and every
delivery's signature checked with the ``standardwebhooks`` library, as a CRM would."""

from __future__ import annotations

import base64
import os
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme
from conftest import free_port
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class Received:
    """One verified request: its path, its webhook-id and its event, and what it was answered."""

    path: str
    webhook_id: str
    event: dict[str, Any]
    answer: int | str


class Receiver:
    """HTTPS on a loopback port, one secret per path; it can be stopped and started again.

    ``answers`` says how to answer the next requests, in order (then 204): a status code,
    ``"redirect"`` (307 elsewhere), ``"slow"`` (answer after ``SLOW`` seconds) or ``"kill"``
    (read the request, then stop the whole server without answering: a crash mid-run).
    """

    SLOW = 2.0

    def __init__(self, ca: trustme.CA, secrets: dict[str, str]) -> None:
        self.port = free_port()
        self.ca = ca
        self.secrets = secrets
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self.context)
        self.answers: deque[int | str] = deque()
        self.received: list[Received] = []
        self.unverified: list[str] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    @property
    def delivered(self) -> list[Received]:
        """The verified requests answered with a 2xx: what the CRM took in."""
        return [r for r in self.received if isinstance(r.answer, int) and r.answer < 300]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = receiver.handle(self.path, body, dict(self.headers.items()))
                if answer == "kill":
                    receiver.stop()  # from this handler's thread: serve_forever runs in another
                    self.close_connection = True
                    return
                if answer == "slow":
                    time.sleep(receiver.SLOW)
                    answer = 204
                if answer == "redirect":
                    self.send_response(307)
                    self.send_header("Location", receiver.url("/elsewhere"))
                else:
                    self.send_response(int(answer))
                self.send_header("Content-Length", "0")
                self.end_headers()

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.socket = self.context.wrap_socket(server.socket, server_side=True)
        self.server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def handle(self, path: str, body: bytes, headers: dict[str, str]) -> int | str:
        secret = self.secrets.get(path)
        try:
            if secret is None:
                raise WebhookVerificationError(f"no endpoint at {path}")
            event = Webhook(secret).verify(body, headers)
        except WebhookVerificationError as error:
            with self.lock:
                self.unverified.append(f"{path}: {error}")
            return 400
        with self.lock:
            answer = self.answers.popleft() if self.answers else 204
            self.received.append(Received(path, headers["webhook-id"], event, answer))
        return answer

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()


def ca_bundle(ca: trustme.CA, directory: Path) -> str:
    """The test CA as a PEM file, for ``WEBHOOK_CA_BUNDLE``."""
    path = directory / "webhook-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def events(receiver: Receiver) -> list[dict[str, Any]]:
    """The events the receiver took in, in order."""
    return [r.event for r in receiver.delivered]
