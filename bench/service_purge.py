"""Purge at scale on SQLite: 1,000,000 expired among 2,000,000 records, with a writer running.

The records are loaded straight into the service's own schema (created by ``consent-api
migrate``) with sqlite3's executemany, oldest first as the service would have written them, with
IDs made at each record's creation (``records.new_id``): the first half created 400-800 days
ago (expired for every kind), the second half within the last 360 days (live). A thousand
expired inquiries are on hold and must survive. While ``consent-api purge`` runs, a writer
thread stores a consent record through the service's storage layer every 5 ms and times each
write; the longest of those waits is the figure.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import secrets
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from . import service
from .common import BIN, ROOT, Result, Unavailable, command_line, new_result, pick, target

NAME = "service_purge"
TITLE = "Purge at scale: 1,000,000 expired among 2,000,000 records (SQLite)"
EXPIRED = pick(1_000_000, 20_000)
LIVE = pick(1_000_000, 20_000)
HELD = pick(1_000, 50)
BATCH = 20_000
PURGE_TARGET_S = 30.0
WAIT_TARGET_MS = 200.0
WRITE_INTERVAL_S = 0.005


def _require_purge(env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(BIN / "consent-api"), "purge", "--help"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise Unavailable(
            "`consent-api purge` does not exist on this branch yet (retention, issue 7, has not "
            "landed); the benchmark is ready for it"
        )


#: The columns the loader fills, in order; the rest keep their defaults.
COLUMNS = (
    "public_id",
    "kind",
    "created_at",
    "expires_at",
    "policy_version",
    "consent_id",
    "subject",
    "payload",
    "signature",
    "hold",
)
#: How SQLAlchemy stores a datetime in SQLite; checked against the service at load time.
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
#: A signature's length, not a valid one: the purge never verifies signatures.
SIGNATURE = "x" * 43
RETENTION_DAYS = {"consent": 395, "contact": 365, "demo": 365}
CONSENT_PAYLOAD = (
    '{"action":"reject_all","banner_fingerprint":"0123456789abcdef",'
    '"choices":{"analytics":false,"necessary":true},"gpc":false,"page":"/"}'
)
INQUIRY_PAYLOAD = (
    '{"company":"Example Clinic","email":"person@example.com","message":"'
    + "Please call me back about scheduling. " * 4
    + '","name":"A Person"}'
)


def _rows(count: int, oldest_days: float, newest_days: float, held: int) -> list[tuple[Any, ...]]:
    """``count`` records created evenly between the two ages, oldest first; 90% consent. Their
    public and consent IDs are made as the service makes them, at the record's creation."""
    new_id = importlib.import_module("consent_api.records.store").new_id
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    step = (oldest_days - newest_days) / max(count - 1, 1)
    rows = []
    for index in range(count):
        kind = "consent" if index % 10 else ("contact" if index % 20 else "demo")
        created = now - dt.timedelta(days=oldest_days - index * step)
        expires = created + dt.timedelta(days=RETENTION_DAYS[kind])
        inquiry = kind != "consent"
        made = created.replace(tzinfo=dt.UTC)
        rows.append(
            (
                new_id(made),
                kind,
                created.strftime(SQLITE_TIME),
                expires.strftime(SQLITE_TIME),
                "2026-03-24",
                None if inquiry else new_id(made),
                secrets.token_hex(32) if inquiry else None,
                INQUIRY_PAYLOAD if inquiry else CONSENT_PAYLOAD,
                SIGNATURE,
                int(kind == "contact" and index // 20 < held),
            )
        )
    return rows


def _check_time_format(database_url: str, schema: Any) -> None:
    """Fail loudly if the service stores times differently from what the loader writes."""
    moment = dt.datetime(2026, 3, 24, 12, 0, 0, 123456, tzinfo=dt.UTC)
    row = dict(zip(COLUMNS, _rows(1, 1, 1, 0)[0], strict=True))
    row.update(created_at=moment, expires_at=moment, hold=False)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(schema.records.insert(), row)
        stored = connection.exec_driver_sql("SELECT created_at FROM records").scalar()
        connection.exec_driver_sql("DELETE FROM records")
    engine.dispose()
    if stored != moment.replace(tzinfo=None).strftime(SQLITE_TIME):
        raise RuntimeError(f"the service stores times as {stored!r}; update SQLITE_TIME")


def _load(database_url: str) -> float:
    """Insert the expired and live records with sqlite3 directly; returns the seconds taken."""
    try:
        schema = importlib.import_module("consent_api.records.schema")
    except ImportError as error:
        raise Unavailable(
            "the records schema (consent_api.records.schema) is not on this branch"
        ) from error
    _check_time_format(database_url, schema)
    started = time.perf_counter()
    connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    # Loading is setup, not what is measured: no fsync until the final checkpoint.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    # Random keys (public and consent IDs) scatter index inserts: keep the indexes in memory.
    connection.execute("PRAGMA cache_size=-1048576")
    insert = f"INSERT INTO records ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    with connection:
        for oldest, newest, count, held in ((800, 400, EXPIRED, HELD), (360, 0.01, LIVE, 0)):
            for first in range(0, count, BATCH):
                size = min(BATCH, count - first)
                start = oldest - (oldest - newest) * first / count
                end = start - (oldest - newest) * size / count
                connection.executemany(insert, _rows(size, start, end, held if not first else 0))
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return time.perf_counter() - started


class Writer(threading.Thread):
    """Stores a consent record every few milliseconds through the service and times each."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url = database_url
        self.timings: list[tuple[float, float]] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.epoch = time.monotonic()

    def run(self) -> None:
        try:
            self._write()
        except Exception as error:  # reported, never swallowed: the figure would be empty
            self.errors.append(f"writer stopped: {type(error).__name__}: {error}")

    def _write(self) -> None:
        from consent_api import create_app

        # The service's own write path; imported by name, as it lands with the records service.
        records = importlib.import_module("consent_api.records.store")
        app = create_app(
            {
                "ENV": "development",
                "DATABASE_URL": self.database_url,
                "SITE_DIR": "",
                "ACCESS_LOG": False,
            }
        )
        body = service.consent_body()
        payload = {key: body[key] for key in ("action", "choices", "banner_fingerprint", "page")}
        with app.app_context():
            while not self.stop.is_set():
                began = time.monotonic()
                try:
                    records.store(
                        "consent",
                        {**payload, "gpc": False},
                        body["policy_version"],
                        consent_id=records.new_id(),
                    )
                except Exception as error:
                    self.errors.append(f"{type(error).__name__}: {error}")
                ended = time.monotonic()
                self.timings.append((began - self.epoch, ended - began))
                time.sleep(WRITE_INTERVAL_S)


def _count(database_url: str, where: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text(f"SELECT count(*) FROM records WHERE {where}")) or 0)
    finally:
        engine.dispose()


def _size(database_url: str) -> int:
    path = Path(database_url.removeprefix("sqlite:///"))
    return sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )


def run() -> Result:
    result = new_result(NAME, TITLE)
    url = service.sqlite_url(NAME)
    env = {
        "CONSENT_API_ENV": "development",
        "CONSENT_API_DATABASE_URL": url,
        "CONSENT_API_SITE_DIR": "",
    }
    _require_purge(env)
    result["commands"].append(service.migrate(url))
    result["load_seconds"] = _load(url)
    now_sql = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    result["before"] = {
        "records": _count(url, "1"),
        "expired": _count(url, f"expires_at <= {now_sql}"),
        "held_expired": _count(url, f"hold AND expires_at <= {now_sql}"),
        "bytes": _size(url),
    }
    writer = Writer(url)
    writer.start()
    time.sleep(2.0)
    argv: list[str | Path] = [BIN / "consent-api", "purge"]
    purge_began = time.monotonic() - writer.epoch
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    purge_seconds = time.perf_counter() - started
    purge_ended = time.monotonic() - writer.epoch
    time.sleep(2.0)
    writer.stop.set()
    writer.join()
    result["commands"].append(command_line(argv, {"CONSENT_API_DATABASE_URL": url}))
    if done.returncode != 0:
        raise RuntimeError(f"consent-api purge failed ({done.returncode}): {done.stderr[-2000:]}")
    during = [wait for at, wait in writer.timings if purge_began <= at + wait and at <= purge_ended]
    outside = [wait for at, wait in writer.timings if at + wait < purge_began or at > purge_ended]
    longest = max(during, default=0.0) * 1000
    left_expired = _count(url, f"expires_at <= {now_sql} AND NOT hold")
    result.update(
        counts={"expired": EXPIRED, "live": LIVE, "held": HELD},
        purge_seconds=purge_seconds,
        purge_output=(done.stdout + done.stderr)[-3000:],
        after={
            "records": _count(url, "1"),
            "expired_not_held": left_expired,
            "held_expired": _count(url, f"hold AND expires_at <= {now_sql}"),
            "bytes": _size(url),
        },
        writer={
            "writes_during_purge": len(during),
            "longest_wait_ms": longest,
            "median_wait_ms": sorted(during)[len(during) // 2] * 1000 if during else 0.0,
            "longest_wait_outside_ms": max(outside, default=0.0) * 1000,
            "errors": writer.errors[:20],
            "error_count": len(writer.errors),
        },
    )
    result["targets"] = [
        target(
            "purge time",
            f"< {PURGE_TARGET_S:g} s",
            f"{purge_seconds:.1f} s for {EXPIRED:,} expired of {EXPIRED + LIVE:,}",
            purge_seconds < PURGE_TARGET_S,
        ),
        target(
            "longest wait of a concurrent writer",
            f"≤ {WAIT_TARGET_MS:g} ms",
            f"{longest:.0f} ms over {len(during)} writes ({len(writer.errors)} failed)",
            longest <= WAIT_TARGET_MS and not writer.errors and bool(during),
        ),
        target(
            "every expired record gone, held ones kept",
            f"0 expired left, {HELD} held kept",
            f"{left_expired} expired left, {result['after']['held_expired']} held kept",
            left_expired == 0 and result["after"]["held_expired"] == HELD,
        ),
    ]
    return result


def markdown(result: Result) -> list[str]:
    before, after, writer = result["before"], result["after"], result["writer"]
    mib = 1024 * 1024
    return [
        f"Loaded {before['records']:,} records ({before['expired']:,} expired, "
        f"{before['held_expired']:,} of them on hold) in {result['load_seconds']:.0f} s; "
        f"database and WAL {before['bytes'] / mib:.0f} MiB before the purge, "
        f"{after['bytes'] / mib:.0f} MiB after.",
        "",
        "| figure | value |",
        "| --- | ---: |",
        f"| purge time | {result['purge_seconds']:.1f} s |",
        f"| records left | {after['records']:,} |",
        f"| writes during the purge | {writer['writes_during_purge']:,} |",
        f"| longest writer wait during the purge | {writer['longest_wait_ms']:.0f} ms |",
        f"| median writer wait during the purge | {writer['median_wait_ms']:.1f} ms |",
        f"| longest writer wait outside the purge | {writer['longest_wait_outside_ms']:.0f} ms |",
        f"| failed writes | {writer['error_count']} |",
        "",
        "Purge output:",
        "",
        "```",
        result["purge_output"].strip() or "(none)",
        "```",
    ]
