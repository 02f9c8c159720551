"""The inquiry rate limit: per client, shared by several instances through Redis."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import redis
from flask import Flask
from inquiry_support import post

from consent_api import create_app, storage


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
