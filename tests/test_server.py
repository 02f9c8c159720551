"""The real server, started the way ``make run`` starts it."""

from __future__ import annotations

import json
import urllib.request

from conftest import LiveServer


def test_server_serves_site_and_api(live_server: LiveServer) -> None:
    with urllib.request.urlopen(f"{live_server.url}/platform/") as response:
        assert response.status == 200
        assert "text/html" in response.headers["Content-Type"]
        assert b"Platform" in response.read()
    with urllib.request.urlopen(f"{live_server.url}/api/health") as response:
        assert json.load(response) == {"status": "ok", "database": "ok"}


def test_server_uses_gunicorn_and_prints_its_address(live_server: LiveServer) -> None:
    output = live_server.stop()
    assert f"http://127.0.0.1:{live_server.port}/" in output
    assert "gunicorn" in output.lower()
