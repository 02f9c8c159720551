"""Cross-origin calls: allowed for the configured site origins, for no one else."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from consent_api import create_app

SITE = "https://www.carecaller.com"


def preflight(client: FlaskClient, origin: str) -> Any:
    return client.options(
        "/api/consent",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_embedded_mode_allows_no_other_origin(client: FlaskClient) -> None:
    response = preflight(client, SITE)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_configured_site_origin_may_post(app_config: dict[str, Any]) -> None:
    client = create_app({**app_config, "CORS_ORIGINS": SITE}).test_client()
    response = preflight(client, SITE)
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    other = preflight(client, "https://evil.example")
    assert "Access-Control-Allow-Origin" not in other.headers
