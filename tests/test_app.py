"""The service's shell: configuration, health, JSON errors under /api/ and the served site."""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import pytest
from conftest import BIN, free_port
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import TooManyRequests

from consent_api import create_app
from consent_api.config import DEFAULTS, DEV_SECRET_KEY
from consent_api.exc import ConfigError
from consent_api.records import storage


def test_factory_takes_the_test_config(app_config: dict[str, object]) -> None:
    app = create_app(app_config)
    assert app.testing
    assert app.config["SECRET_KEYS"] == ["test-secret-key"]


def test_environment_variables_override_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONSENT_API_SECRET_KEYS", "old-key,new-key")
    monkeypatch.setenv("CONSENT_API_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    app = create_app()
    assert app.config["SECRET_KEYS"] == ["old-key", "new-key"]
    assert app.config["SECRET_KEY"] == "new-key"
    assert app.config["DATABASE_URL"].endswith("env.sqlite3")


def test_production_start_without_secret_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENT_API_SECRET_KEYS", raising=False)
    monkeypatch.delenv("CONSENT_API_ENV", raising=False)
    with pytest.raises(ConfigError, match="CONSENT_API_SECRET_KEYS"):
        create_app({"SITE_DIR": ""})


@pytest.mark.parametrize(
    "flag",
    [
        {"FLASK_DEBUG": "1"},
        {"CONSENT_API_DEBUG": "true"},
        {"CONSENT_API_TESTING": "true"},
        {"CONSENT_API_SECRET_KEYS": DEV_SECRET_KEY},
    ],
)
def test_production_never_starts_on_the_development_key(
    flag: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSENT_API_", "FLASK_"))}
    env.update({"CONSENT_API_ENV": "production", **flag})
    env["CONSENT_API_DATABASE_URL"] = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    result = subprocess.run(
        [str(BIN / "consent-api"), "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "CONSENT_API_SECRET_KEYS" in result.stderr
    assert "Listening" not in result.stderr + result.stdout


@pytest.mark.parametrize("flags", [{"TESTING": True}, {"DEBUG": True}])
def test_no_flag_but_the_environment_allows_the_development_key(
    flags: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSENT_API_SECRET_KEYS", raising=False)
    monkeypatch.delenv("CONSENT_API_ENV", raising=False)
    with pytest.raises(ConfigError, match="CONSENT_API_SECRET_KEYS"):
        create_app({**flags, "SITE_DIR": ""})


def test_development_start_uses_the_development_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CONSENT_API_SECRET_KEYS", raising=False)
    app = create_app(
        {"ENV": "development", "SITE_DIR": "", "DATABASE_URL": f"sqlite:///{tmp_path}/d.db"}
    )
    assert len(app.config["SECRET_KEYS"]) == 1


def test_cli_refuses_production_start_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_API_")}
    result = subprocess.run(
        [str(BIN / "consent-api"), "routes"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if "CONSENT_API_SECRET_KEYS" in line
    ]
    assert "Traceback" not in result.stderr


def test_cli_help_works_outside_the_repository(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_API_")}
    result = subprocess.run(
        [str(BIN / "consent-api"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout
    assert "Traceback" not in result.stderr


def test_health_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_is_unreachable(app_config: dict[str, object]) -> None:
    app = create_app({**app_config, "DATABASE_URL": "sqlite:////nonexistent/dir/x.sqlite3"})
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "storage_unavailable"


def test_unknown_api_route_is_json_404(client: FlaskClient) -> None:
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_is_json_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/health")
    assert response.status_code == 405
    assert response.is_json
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_site_index_is_served(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b"CareCaller" in response.data


def test_site_page_and_assets_have_types_and_cache_headers(client: FlaskClient) -> None:
    page = client.get("/platform/")
    assert page.status_code == 200
    assert b"<h1" in page.data
    assert "max-age" in page.headers["Cache-Control"]
    css = client.get("/assets/stylesheets/carecaller.css")
    assert css.mimetype == "text/css"


def test_folder_without_slash_redirects_to_its_index(client: FlaskClient) -> None:
    response = client.get("/platform")
    assert response.status_code in {301, 302}
    assert urljoin("http://localhost/platform", response.headers["Location"]).endswith("/platform/")


def test_missing_page_gets_the_sites_404_page(client: FlaskClient, built_site: Path) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert response.data == (built_site / "404.html").read_bytes()


def test_rate_limited_api_answer_is_json_429_with_retry_after(
    app_config: dict[str, object],
) -> None:
    app = create_app(app_config)

    def limited() -> None:
        raise TooManyRequests("Slow down.", retry_after=30)

    app.add_url_rule("/api/limited", view_func=limited)
    response = app.test_client().get("/api/limited")
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited"
    assert response.headers["Retry-After"] == "30"


def test_site_is_sent_gzipped_to_browsers_that_accept_it(client: FlaskClient) -> None:
    plain = client.get("/platform/")
    packed = client.get("/platform/", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2


def test_a_developers_instance_file_and_environment_never_reach_a_test_app(
    app_config: dict[str, object], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('SECRET_KEYS = ["developers-key"]\nPURGE_INTERVAL = 5\n')
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    monkeypatch.setenv("CONSENT_API_INQUIRY_RATE_LIMIT", "1 per day")
    monkeypatch.setenv("CONSENT_API_DATABASE_URL", f"sqlite:///{tmp_path / 'developer.sqlite3'}")

    developers = create_app()
    tests = create_app(app_config)

    # The developer's own app sees both; a test app sees only its mapping and the defaults.
    assert developers.config["SECRET_KEYS"] == ["developers-key"]
    assert developers.config["INQUIRY_RATE_LIMIT"] == "1 per day"
    assert tests.config["SECRET_KEYS"] == ["test-secret-key"]
    assert tests.config["PURGE_INTERVAL"] == DEFAULTS["PURGE_INTERVAL"]
    assert tests.config["INQUIRY_RATE_LIMIT"] == DEFAULTS["INQUIRY_RATE_LIMIT"]
    assert tests.config["DATABASE_URL"] == app_config["DATABASE_URL"]
    for app in (developers, tests):
        storage.dispose(app)
