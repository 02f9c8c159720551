"""Security headers on API answers and site pages, and an access log that names nobody."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, LiveServer
from consentkit import consent_body
from flask import session
from flask.testing import FlaskClient
from headers import HASHED_ASSET, PATHS, resolve, wrong

from consent_api import create_app
from consent_api.site import registry


@pytest.mark.parametrize("path", [*PATHS, HASHED_ASSET])
def test_every_response_carries_every_security_header(
    client: FlaskClient, built_site: Path, path: str
) -> None:
    response = client.get(resolve(path, built_site))
    assert response.status_code in {200, 404}, path
    assert wrong(response.headers.get) == {}, path
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_the_service_sets_no_cookie_even_when_a_view_touches_the_session(
    client: FlaskClient,
) -> None:
    body = consent_body(registry.get(client.application))
    answers = [
        client.post("/api/consent", json=body),
        client.get("/contact/"),
        client.post("/api/contact", data={"name": "x"}),
        client.get("/"),
    ]
    assert [a.headers.get("Set-Cookie") for a in answers] == [None] * 4
    # There is no session to keep anything in: a view that tried would fail loudly, not
    # quietly set a cookie.
    with client.application.test_request_context(), pytest.raises(RuntimeError):
        session["tracked"] = True


def test_api_answers_are_never_cached_and_allow_no_content(client: FlaskClient) -> None:
    response = client.get("/api/health")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_hsts_only_when_configured(app_config: dict[str, Any]) -> None:
    plain = create_app(app_config).test_client().get("/api/health")
    assert "Strict-Transport-Security" not in plain.headers
    hsts = create_app({**app_config, "HSTS_SECONDS": 31536000}).test_client()
    assert hsts.get("/").headers["Strict-Transport-Security"] == "max-age=31536000"
    assert hsts.get("/api/health").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_server_header_leaks_no_version(site_server: LiveServer) -> None:
    with urllib.request.urlopen(f"{site_server.url}/api/health") as response:
        server = response.headers.get("Server", "")
    assert not any(character.isdigit() for character in server)


def test_access_log_has_paths_but_no_query_strings_or_addresses(live_server: LiveServer) -> None:
    secret = "someone%40example.com"
    urllib.request.urlopen(f"{live_server.url}/api/health?email={secret}").close()
    urllib.request.urlopen(f"{live_server.url}/platform/?ref={secret}").close()
    request = urllib.request.Request(
        f"{live_server.url}/api/consent",
        data=json.dumps(consent_body(registry.load(ROOT / "mkdocs.yml"))).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        receipt = json.load(response)["receipt"]
    urllib.request.urlopen(f"{live_server.url}/api/consent/{receipt}").close()
    output = live_server.stop()
    assert receipt.split(".")[0] not in output  # the record a receipt names is nobody's business
    assert '"path":"/api/consent/<receipt>"' in output
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"method": "GET", "path": "/api/health", "status": 200} in [
        {key: entry[key] for key in ("method", "path", "status")} for entry in entries
    ]
    assert any(entry["path"] == "/platform/" for entry in entries)
    assert "someone" not in output
    assert '127.0.0.1"' not in output and "127.0.0.1 " not in output.replace(
        f"http://127.0.0.1:{live_server.port}/", ""
    )
