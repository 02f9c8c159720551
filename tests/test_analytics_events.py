"""POST /api/events on every backend: what is counted, and every event that is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from analytics_support import daily, post, row_counts, sources, view
from flask import Flask
from flask.testing import FlaskClient

from consent_api import create_app
from consent_api.records import storage


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Every test here runs on SQLite and on PostgreSQL.
    return backend_url


def test_page_views_add_up_per_page_with_each_visitor_counted_once_a_day(
    app: Flask, client: FlaskClient
) -> None:
    for _ in range(3):
        assert post(client, view("/demo/", referrer="www.example.com")).status_code == 204
    assert post(client, view("/demo/", viewport="small"), address="192.0.2.44").status_code == 204
    assert post(client, view("/platform/", viewport="medium")).status_code == 204
    assert daily(app) == {
        ("/demo/", "pageview"): (4, 2),
        ("/platform/", "pageview"): (1, 1),
        ("", "pageview"): (5, 2),
    }
    assert sources(app) == {
        ("referrer", "www.example.com"): 3,
        ("viewport", "large"): 3,
        ("viewport", "small"): 1,
        ("viewport", "medium"): 1,
    }


def test_a_conversion_is_counted_on_its_form_page_and_not_as_a_view(
    app: Flask, client: FlaskClient
) -> None:
    assert post(client, view("/contact/")).status_code == 204
    assert post(client, {"name": "conversion", "path": "/contact/"}).status_code == 204
    counts = daily(app)
    assert counts[("/contact/", "conversion")] == (1, 1)
    assert counts[("", "pageview")] == (1, 1)


def test_the_sites_own_host_is_not_a_referrer_and_index_html_is_its_page(
    app: Flask, client: FlaskClient
) -> None:
    assert post(client, view("/demo/index.html", referrer="localhost")).status_code == 204
    assert daily(app)[("/demo/", "pageview")] == (1, 1)
    assert ("referrer", "localhost") not in sources(app)


def test_with_gpc_an_event_counts_only_if_the_stored_choice_agrees(
    app: Flask, client: FlaskClient
) -> None:
    refused = post(client, view(), **{"Sec-GPC": "1"})
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "gpc"
    assert row_counts(app)["analytics_daily"] == 0
    agreed = post(client, view(consent={"analytics": True}), **{"Sec-GPC": "1"})
    assert agreed.status_code == 204
    assert daily(app)[("/", "pageview")] == (1, 1)


BAD_EVENTS: list[tuple[str, Any, dict[str, str], int, str]] = [
    ("unknown page", view("/wp-admin/"), {}, 400, "invalid"),
    ("query in the path", view("/?utm_source=mail"), {}, 400, "invalid"),
    ("unknown event", {"name": "click", "path": "/"}, {}, 400, "invalid"),
    ("conversion off a form", {"name": "conversion", "path": "/platform/"}, {}, 400, "invalid"),
    ("full referrer URL", view(referrer="https://example.com/page"), {}, 400, "invalid"),
    ("unknown viewport", view(viewport="1920x1080"), {}, 400, "invalid"),
    ("an extra field", view(visitor_id="abc"), {}, 400, "invalid"),
    ("path not a string", view(7), {}, 400, "invalid"),
    ("not JSON", "name=pageview", {}, 400, "invalid_json"),
    ("oversized", view(referrer="a" * 2000), {}, 400, "too_large"),
    ("choice refuses", view(consent={"analytics": False}), {}, 400, "no_consent"),
    ("GPC, no choice", view(), {"Sec-GPC": "1"}, 400, "gpc"),
    ("another site", view(), {"Origin": "https://attacker.example"}, 400, "origin"),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [case[1:] for case in BAD_EVENTS],
    ids=[case[0] for case in BAD_EVENTS],
)
def test_a_bad_event_gets_its_reason_and_stores_nothing(
    app: Flask, client: FlaskClient, body: Any, headers: dict[str, str], status: int, code: str
) -> None:
    response = post(client, body, **headers)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    counts = row_counts(app)
    assert counts["analytics_daily"] == counts["analytics_sources"] == 0


def test_a_form_post_is_not_an_event(client: FlaskClient) -> None:
    response = client.post("/api/events", data={"name": "pageview", "path": "/"})
    assert response.status_code == 415


def test_no_address_or_user_agent_is_stored_or_logged(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG"):
        response = client.post(
            "/api/events",
            data='{"name": "pageview", "path": "/", "viewport": "small"}',
            content_type="text/plain",
            environ_base={
                "REMOTE_ADDR": "203.0.113.77",
                "HTTP_USER_AGENT": "Mozilla/5.0 FootprintAgent/9.9",
            },
        )
    assert response.status_code == 204
    stored = []
    with storage.get_engine(app).connect() as connection:
        for name in sa.inspect(storage.get_engine(app)).get_table_names():
            for row in connection.execute(sa.text(f"SELECT * FROM {name}")):
                stored.extend(str(value) for value in row)
    logged = " ".join(record.getMessage() for record in caplog.records)
    for footprint in ("203.0.113", "FootprintAgent"):
        assert footprint not in " ".join(stored)
        assert footprint not in logged


def test_a_burst_from_one_address_is_limited_and_others_still_count(
    app_config: dict[str, Any],
) -> None:
    app = create_app({**app_config, "EVENTS_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    answers = [post(client, view()).status_code for _ in range(4)]
    assert answers == [204, 204, 204, 429]
    assert post(client, view(), address="192.0.2.50").status_code == 204
    assert daily(app)[("", "pageview")] == (4, 2)
    storage.dispose(app)


@pytest.mark.redis
def test_instances_sharing_redis_share_the_events_limit(
    app_config: dict[str, Any], redis_url: str, tmp_path: Path
) -> None:
    shared = {
        **app_config,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"test-{tmp_path.name}",
        "EVENTS_RATE_LIMIT": "2 per minute",
    }
    first, second = create_app(shared), create_app(shared)
    assert post(first.test_client(), view()).status_code == 204
    assert post(second.test_client(), view()).status_code == 204
    assert post(first.test_client(), view()).status_code == 429
    for each in (first, second):
        storage.dispose(each)


def test_storage_down_answers_503_and_the_event_is_dropped(
    app_config: dict[str, Any], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{missing}", "AUTO_MIGRATE": False})
    response = post(app.test_client(), view())
    assert response.status_code == 503
    assert response.json["error"]["code"] == "storage_unavailable"
    storage.dispose(app)
