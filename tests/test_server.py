"""The real server, started the way ``make run`` starts it."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.request
from pathlib import Path

import pytest
from conftest import LiveServer


def test_server_serves_site_and_api(site_server: LiveServer) -> None:
    with urllib.request.urlopen(f"{site_server.url}/platform/") as response:
        assert response.status == 200
        assert "text/html" in response.headers["Content-Type"]
        assert b"Platform" in response.read()
    with urllib.request.urlopen(f"{site_server.url}/api/health") as response:
        assert json.load(response) == {"status": "ok", "database": "ok"}


def test_server_uses_waitress_and_prints_its_address(live_server: LiveServer) -> None:
    output = live_server.stop()
    assert f"http://127.0.0.1:{live_server.port}/" in output
    assert "waitress" in output.lower()


def post_until_refused(url: str, receipts: list[str], started: threading.Event) -> None:
    """Post consent records until the server stops answering; keep every 201's receipt."""
    body = json.dumps(
        {
            "consent_id": None,
            "choices": {"necessary": True, "analytics": True},
            "action": "accept_all",
            "policy_version": "2026-03-24",
            "banner_fingerprint": "0123456789abcdef",
            "gpc": False,
            "page": "/",
        }
    ).encode()
    while True:
        request = urllib.request.Request(
            f"{url}/api/consent", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 201:
                    receipts.append(json.load(response)["receipt"])
                    if len(receipts) >= 20:
                        started.set()
        except (OSError, http.client.HTTPException):
            return


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_every_answered_record_survives_a_kill(
    request: pytest.FixtureRequest, tmp_path: Path, built_site: Path, backend: str
) -> None:
    if backend == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'durable.sqlite3'}"
    else:
        database_url = request.getfixturevalue("postgres_schema_url")
    env = {
        "CONSENT_API_SITE_DIR": str(built_site),
        "CONSENT_API_DATABASE_URL": database_url,
        "CONSENT_API_AUTO_MIGRATE": "true",
    }
    server = LiveServer(env)
    server.start()
    receipts: list[str] = []
    started = threading.Event()
    clients = [
        threading.Thread(target=post_until_refused, args=(server.url, receipts, started))
        for _ in range(3)
    ]
    for client in clients:
        client.start()
    assert started.wait(timeout=20), "no record was stored before the kill"
    server.kill()
    for client in clients:
        client.join(timeout=10)

    restarted = LiveServer(env)
    restarted.start()
    try:
        for receipt in receipts:
            with urllib.request.urlopen(f"{restarted.url}/api/consent/{receipt}") as response:
                assert response.status == 200
    finally:
        restarted.stop()
    assert len(receipts) >= 20
