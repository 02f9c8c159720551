"""What the analytics tests share: posting events as the script does, and reading the counters."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from consent_api.records import storage
from consent_api.records.schema import ANALYTICS_TABLES, analytics_daily, analytics_sources


def view(path: str = "/", **extra: Any) -> dict[str, Any]:
    """A page view as analytics.js sends it."""
    return {"name": "pageview", "path": path, "referrer": "", "viewport": "large", **extra}


def post(client: FlaskClient, body: Any, address: str = "198.51.100.7", **headers: str) -> Any:
    """POST /api/events as sendBeacon sends a string: text/plain, from ``address``."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        "/api/events",
        data=data,
        content_type="text/plain;charset=UTF-8",
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def daily(app: Flask) -> dict[tuple[str, str], tuple[int, int]]:
    """Every counter summed over days: ``{(path, event): (events, visitors)}``."""
    query = sa.select(
        analytics_daily.c.path,
        analytics_daily.c.event,
        sa.func.sum(analytics_daily.c.events),
        sa.func.sum(analytics_daily.c.visitors),
    ).group_by(analytics_daily.c.path, analytics_daily.c.event)
    with storage.get_engine(app).connect() as connection:
        return {(p, e): (int(n), int(v)) for p, e, n, v in connection.execute(query)}


def sources(app: Flask) -> dict[tuple[str, str], int]:
    query = sa.select(
        analytics_sources.c.dimension, analytics_sources.c.value, analytics_sources.c.views
    )
    with storage.get_engine(app).connect() as connection:
        return {(d, v): int(n) for d, v, n in connection.execute(query)}


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in each analytics table: what "stores nothing" is checked against."""
    with storage.get_engine(app).connect() as connection:
        return {
            table.name: int(connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in ANALYTICS_TABLES
        }
