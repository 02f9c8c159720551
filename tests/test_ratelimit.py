"""The inquiry rate limit: per client, shared by several instances through Redis."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import redis
import time_machine
from conftest import free_port
from flask import Flask
from inquiry_support import post

from consent_api import create_app
from consent_api.exc import ConfigError
from consent_api.inquiries import ratelimit
from consent_api.records import storage
from consent_api.records import store as records


@pytest.mark.redis
def test_instances_sharing_redis_share_one_limit_without_storing_addresses(
    app_config: dict[str, Any], redis_url: str
) -> None:
    prefix = f"test-{secrets.token_hex(6)}"
    config = {
        **app_config,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "INQUIRY_RATE_LIMIT": "3 per minute",
    }
    first, second = create_app(config), create_app(config)
    instances: list[Flask] = [first, second, first, second]
    answers = [post(instance.test_client(), "contact").status_code for instance in instances]
    assert answers == [201, 201, 201, 429]
    server = redis.Redis.from_url(redis_url)
    keys = [key.decode() for key in server.scan_iter(f"*{prefix}*")]
    assert keys
    assert not any("127.0.0.1" in key for key in keys)
    server.delete(*keys)
    for instance in (first, second):
        storage.dispose(instance)


def test_a_failed_limit_storage_lets_the_inquiry_through_and_says_why(
    app_config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on this port: the limit cannot be counted. A lead is worth more than a
    # count (RATELIMIT_SWALLOW_ERRORS, the default), so the inquiry is stored and logged.
    down = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": down})
    with caplog.at_level("ERROR", logger="consent_api.inquiries.ratelimit"):
        answer = post(app.test_client(), "contact")
    assert answer.status_code == 201, answer.json
    assert any("let through" in record.getMessage() for record in caplog.records)
    storage.dispose(app)


def test_a_failed_limit_storage_refuses_the_inquiry_when_errors_are_not_swallowed(
    app_config: dict[str, Any],
) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(
        {**app_config, "RATELIMIT_STORAGE_URI": down, "RATELIMIT_SWALLOW_ERRORS": False}
    )
    answer = post(app.test_client(), "contact")
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "rate_limit_unavailable"
    with app.app_context():
        assert records.of_kind("contact") == []
    storage.dispose(app)


def test_an_unreadable_rate_limit_is_a_configuration_error(app_config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="INQUIRY_RATE_LIMIT"):
        create_app({**app_config, "INQUIRY_RATE_LIMIT": "lots"})


def test_a_refused_inquiry_says_when_the_window_resets(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "INQUIRY_RATE_LIMIT": "2 per minute;10 per hour"})
    client = app.test_client()
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        assert [post(client).status_code for _ in range(2)] == [201, 201]
        clock.shift(20)
        refused = post(client)
    assert refused.status_code == 429
    # The minute window opened with the first inquiry, 20 seconds before; the hour's allows more.
    assert refused.headers["Retry-After"] == "40"
    storage.dispose(app)


def test_a_fault_in_the_limiter_itself_is_not_taken_for_a_storage_failure(
    app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the storage's failures let an inquiry through; a bug answers 500 and stores nothing.
    app = create_app(app_config)

    def broken(*_: Any, **__: Any) -> bool:
        raise TypeError("a bug, not an unreachable storage")

    monkeypatch.setattr(app.extensions[ratelimit.EXTENSION].limiter, "hit", broken)
    answer = post(app.test_client(), "contact")
    assert answer.status_code == 500
    with app.app_context():
        assert records.of_kind("contact") == []
    storage.dispose(app)
