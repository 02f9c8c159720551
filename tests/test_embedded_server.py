"""The embedded server (``consent-api serve``, waitress in worker processes) on its own: slow
clients, its own error answers, request limits before the app, two instances on one machine."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from conftest import BIN, ROOT, LiveServer
from consentkit import consent_body

from consent_api import create_app
from consent_api.site import registry
from consent_api.web import security

THREADS = 4  # what `consent-api serve` runs by default, in one worker


def server_env(data: Path, built_site: Path, **extra: str) -> dict[str, str]:
    return {
        "CONSENT_API_SITE_DIR": str(built_site),
        "CONSENT_API_DATABASE_URL": f"sqlite:///{data / 'server.sqlite3'}",
        **extra,
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Iterator[LiveServer]:
    live = LiveServer(server_env(tmp_path_factory.mktemp("embedded"), built_site))
    live.start()
    yield live
    live.stop()


def answer(port: int, data: bytes) -> tuple[int, dict[str, str]]:
    """Send raw bytes; the status and headers of what the server answers before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:])
    return int(head[0].split()[1]), headers


def slow_client(port: int, trickle_body: bool) -> socket.socket:
    """A client that has sent the start of a request and stops there, for now."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if trickle_body:
        sock.sendall(
            b"POST /api/consent HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000\r\n\r\n{"
        )
    else:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: a")
    return sock


def still_connected(sock: socket.socket) -> bool:
    """Neither closed nor answered by the server."""
    sock.setblocking(False)
    try:
        return not sock.recv(1)  # b"" is a close; any byte an answer
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)


def test_slow_clients_do_not_keep_a_normal_request_from_being_answered(
    server: LiveServer,
) -> None:
    # Twice as many slow clients as the server has threads: with a thread per connection
    # (gunicorn's gthread), none would be left for the normal requests.
    slow = [slow_client(server.port, trickle_body=n % 2 == 0) for n in range(2 * THREADS)]
    try:
        for sock in slow:
            sock.sendall(b"a")  # a byte more each: they are sending, not idle
        with urllib.request.urlopen(f"{server.url}/api/health", timeout=10) as response:
            assert json.load(response) == {"status": "ok", "database": "ok"}
        body = consent_body(registry.load(ROOT / "mkdocs.yml"), accept=True)
        request = urllib.request.Request(
            f"{server.url}/api/consent",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        assert [still_connected(sock) for sock in slow] == [True] * len(slow)
    finally:
        for sock in slow:
            sock.close()


LIMIT = 16 * 1024  # MAX_CONTENT_LENGTH's default
OVERSIZED = {
    "malformed request line": (b"NOT A REQUEST\r\n\r\n", 400),
    "headers too large": (
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
        431,
    ),
    "request line too long": (b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431),
    "declared body too large": (
        b"POST /api/consent HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(LIMIT + 1).encode() + b"\r\n\r\n",
        413,
    ),
    "chunked body too large": (
        b"POST /api/contact HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % (LIMIT + 1)
        + b"name="
        + b"a" * (LIMIT - 4)
        + b"\r\n0\r\n\r\n",
        413,
    ),
}


@pytest.fixture(scope="module")
def expected_headers(built_site: Path) -> dict[str, str]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEYS": ["test-key"],
            "SITE_DIR": str(built_site),
            "DATABASE_URL": "sqlite://",
        }
    )
    return security.api_headers(app)


@pytest.mark.parametrize("case", OVERSIZED, ids=list(OVERSIZED))
def test_the_servers_own_error_answers_carry_the_security_headers(
    server: LiveServer, expected_headers: dict[str, str], case: str
) -> None:
    data, status = OVERSIZED[case]
    got, headers = answer(server.port, data)
    assert got == status
    assert {name: headers.get(name) for name in expected_headers} == expected_headers
    assert "Server" not in headers


def test_an_oversized_body_is_refused_before_the_app_sees_it(server: LiveServer) -> None:
    before = server.output()
    data, _ = OVERSIZED["chunked body too large"]
    assert answer(server.port, data)[0] == 413
    with urllib.request.urlopen(f"{server.url}/api/health", timeout=10):
        pass  # its access-log line is written once the answer is sent: nothing is pending
    new_lines = server.output()[len(before) :]
    assert '"path":"/api/health"' in new_lines
    assert "/api/contact" not in new_lines  # the app never logged, so never saw, the post
    engine = sa.create_engine(server.env["CONSENT_API_DATABASE_URL"])
    with engine.connect() as connection:
        assert (
            connection.scalar(sa.text("SELECT count(*) FROM records WHERE kind = 'contact'")) == 0
        )
    engine.dispose()


def test_a_request_that_does_not_arrive_in_time_gets_408(tmp_path: Path, built_site: Path) -> None:
    with LiveServer(server_env(tmp_path, built_site, CONSENT_API_REQUEST_TIMEOUT="1")) as live:
        # One stalls in its headers, one in its body: both hold up nothing past the deadline.
        stalled = [slow_client(live.port, trickle_body=body) for body in (False, True)]
        statuses = []
        for sock in stalled:
            sock.settimeout(10)
            with sock:
                statuses.append(sock.recv(4096).split(b"\r\n", 1)[0].split()[1])
        assert statuses == [b"408", b"408"]


@pytest.mark.redis
def test_two_instances_on_one_machine_start_and_stop_independently(
    tmp_path: Path, built_site: Path, redis_url: str
) -> None:
    first, second = (tmp_path / "first", tmp_path / "second")
    first.mkdir()
    second.mkdir()
    # Two workers each: serve refuses several workers counting the rate limit apart, so the
    # limit is shared in Redis, as a deployment with several workers has it.
    shared = {"CONSENT_API_RATELIMIT_STORAGE_URI": redis_url}
    a = LiveServer(server_env(first, built_site, **shared), options=["--workers", "2"])
    b = LiveServer(server_env(second, built_site, **shared), options=["--workers", "2"])
    a.start()
    try:
        b.start()
        # A third on the first one's port is refused, and says why; the first goes on.
        taken = subprocess.run(
            [str(BIN / "consent-api"), "serve", "--port", str(a.port)],
            env={**b.env},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert taken.returncode != 0
        assert f"cannot listen on 127.0.0.1:{a.port}" in taken.stderr
        b.stop()
        with urllib.request.urlopen(f"{a.url}/api/health", timeout=10) as response:
            assert response.status == 200
        b.start()  # again, beside the first, on the port it had
        with urllib.request.urlopen(f"{b.url}/api/health", timeout=10) as response:
            assert response.status == 200
        # A worker that dies is replaced, and the server answers throughout.
        supervisor, *workers = a.pids()
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while len(set(a.pids()) - {supervisor, *workers}) < 1 and time.monotonic() < deadline:
            with urllib.request.urlopen(f"{a.url}/api/health", timeout=10) as response:
                assert response.status == 200
            time.sleep(0.1)
        processes = a.pids()
        assert len(processes) == 3  # the supervisor and two workers, one of them new
        assert workers[0] not in processes
    finally:
        b.stop()
        output = a.stop()
    assert "Stopped" in output
    # The background jobs run in each worker, the replacement too: each ran the purge at start.
    purged_by = set(re.findall(r"\[(\d+)\] \[INFO\] purge: ", output))
    assert {str(pid) for pid in processes[1:]} <= purged_by
    assert not any(psutil.pid_exists(pid) for pid in processes)  # SIGTERM stopped every worker


def test_a_request_under_way_when_the_server_stops_is_still_answered(
    tmp_path: Path, built_site: Path
) -> None:
    body = json.dumps(consent_body(registry.load(ROOT / "mkdocs.yml"), accept=True)).encode()
    with LiveServer(server_env(tmp_path, built_site)) as live:
        with socket.create_connection(("127.0.0.1", live.port), timeout=15) as sock:
            sock.sendall(
                b"POST /api/consent HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10]
            )
            assert live.process is not None
            live.process.terminate()  # SIGTERM, as systemd stops it
            deadline = time.monotonic() + 10
            while "Stopping (SIGTERM)" not in live.output() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "Stopping (SIGTERM)" in live.output()
            sock.sendall(body[10:])
            status = sock.recv(4096).split(b"\r\n", 1)[0]
        output = live.stop()
    assert status.split()[1] == b"201", output
    assert "Stopped" in output
