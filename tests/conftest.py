"""Fixtures shared by the whole suite: the built site, the app, a live server and a browser."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from consentkit import Visitor
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from liveserver import LiveServer, free_port

from consent_api import create_app
from consent_api.records import storage

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Chromium's own background traffic is refused on a closed network; these flags keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def mkdocs_build(config: Path, site_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``mkdocs build --strict`` as a marketer would, into ``site_dir``."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "-f", str(config), "-d", str(site_dir)],
        capture_output=True,
        text=True,
        env=env,
        cwd=config.parent,
        check=False,
    )


@dataclass(frozen=True)
class SiteBuild:
    """The real site built once, and what ``mkdocs build --strict`` said while building it."""

    site_dir: Path
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def site_build(tmp_path_factory: pytest.TempPathFactory) -> SiteBuild:
    """The real site, built once per test run as ``make build`` builds it: strict, then with
    the gzip copies the servers send. Tests only read it; a test that changes the site or its
    configuration builds a copy of its own."""
    site_dir = tmp_path_factory.mktemp("site")
    result = mkdocs_build(ROOT / "mkdocs.yml", site_dir)
    assert result.returncode == 0, result.stderr
    compress = [sys.executable, "-m", "whitenoise.compress", "--quiet", "--no-brotli"]
    subprocess.run([*compress, str(site_dir)], check=True)
    return SiteBuild(site_dir, result)


@pytest.fixture(scope="session")
def built_site(site_build: SiteBuild) -> Path:
    """The folder of the real site built once per run (see ``site_build``)."""
    return site_build.site_dir


POSTGRES_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server the backend tests use. CI requires it; elsewhere its absence skips
    only the PostgreSQL half of the backend tests, with the reason in the summary."""
    url = os.environ.get("CONSENT_API_TEST_POSTGRES_URL") or POSTGRES_DEFAULT_URL
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        reason = f"PostgreSQL at {url} is unreachable ({type(error.orig or error).__name__})"
        if os.environ.get("CONSENT_API_TEST_SERVICES_REQUIRED") == "1":
            pytest.fail(f"{reason}, and CONSENT_API_TEST_SERVICES_REQUIRED=1")
        pytest.skip(f"{reason}: set CONSENT_API_TEST_POSTGRES_URL to run these tests")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server that tests of shared rate limits use: ``CONSENT_API_TEST_REDIS_URL``.
    Unset or unreachable, those tests are skipped with the reason, or fail where CI requires
    its services."""
    url = os.environ.get("CONSENT_API_TEST_REDIS_URL", "")
    reason = "CONSENT_API_TEST_REDIS_URL is not set"
    if url:
        import redis

        try:
            redis.Redis.from_url(url, socket_timeout=2).ping()
            return url
        except redis.RedisError as error:
            reason = f"Redis at {url} is unreachable ({type(error).__name__})"
    if os.environ.get("CONSENT_API_TEST_SERVICES_REQUIRED") == "1":
        pytest.fail(f"{reason}, and CONSENT_API_TEST_SERVICES_REQUIRED=1")
    pytest.skip(f"{reason}: set it (e.g. redis://127.0.0.1:6379/0) to run these tests")


@contextlib.contextmanager
def fresh_schema(postgres_url: str) -> Iterator[str]:
    """A URL whose connections see only a fresh schema of their own, dropped afterwards, so that
    tests (and other people's test runs on the same server) never see each other's rows."""
    name = f"test_{secrets.token_hex(6)}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {name}"))
    url = sa.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A fresh schema for one test (see ``fresh_schema``)."""
    with fresh_schema(postgres_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each backend in turn (Flask-SQLAlchemy's test-suite style): a module that overrides
    ``database_url`` with this runs every one of its tests on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


#: For a table of bad-input cases that are refused before anything is stored, in a module that
#: runs on every backend: the cases run on SQLite only, since no database takes part in them.
ONE_BACKEND = pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite unless a test module asks for every backend (see ``backend_url``)."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app_config(database_url: str, built_site: Path) -> dict[str, Any]:
    """The test mapping: a throwaway, migrated database, the built site and a test key."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "AUTO_MIGRATE": True,
        "SITE_DIR": str(built_site),
        "SECRET_KEYS": ["test-secret-key"],
    }


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database as ``AUTO_MIGRATE`` leaves a new one, made once per run. Migrating
    took most of an app's start, which nearly every test pays: ``app`` copies this instead."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.sqlite3"
    storage.dispose(
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{path}",
                "AUTO_MIGRATE": True,
                "SITE_DIR": "",
                "SECRET_KEYS": ["template-key"],
            }
        )
    )
    # Everything into the one file, so that a copy of the file is the whole database.
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def seed_sqlite(config: dict[str, Any], migrated: Path) -> None:
    """A new SQLite database that would be migrated at start begins as a copy of ``migrated``."""
    url = sa.make_url(config["DATABASE_URL"])
    if not (config.get("AUTO_MIGRATE") and url.get_backend_name() == "sqlite" and url.database):
        return
    path = Path(url.database)
    if not path.exists():
        shutil.copyfile(migrated, path)


@pytest.fixture
def app(app_config: dict[str, Any], migrated_sqlite: Path) -> Iterator[Flask]:
    seed_sqlite(app_config, migrated_sqlite)
    app = create_app(app_config)
    yield app
    # Closed before the PostgreSQL schema is dropped, which would otherwise wait for them.
    storage.dispose(app)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An app context for tests that call the records API directly."""
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def serving(data: Path, built_site: Path) -> Iterator[LiveServer]:
    """A started server of the built site with its database in ``data``, stopped after."""
    server = LiveServer(
        {
            "CONSENT_API_SITE_DIR": str(built_site),
            "CONSENT_API_DATABASE_URL": f"sqlite:///{data / 'live.sqlite3'}",
        }
    )
    server.start()
    yield server
    server.stop()


__all__ = ["LiveServer", "free_port"]  # the live-server helpers, for the test modules


@pytest.fixture
def live_server(tmp_path: Path, built_site: Path) -> Iterator[LiveServer]:
    """A server of this test's own, with an empty database, for a test that stops it, reads
    its output or counts what it stored; tests that only make requests share ``site_server``."""
    yield from serving(tmp_path, built_site)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (Playwright's own download cannot work offline)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with 'apt-get install chromium' (as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def site_server(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Iterator[LiveServer]:
    """One real server for the whole run, for tests that only make requests: the banner's
    browser tests (each with its own browser context, storage and consent ID), the CSP scan,
    nginx in front of it. A test that stops it, reads its output, counts its rows or needs
    other settings takes a ``live_server`` (or a ``LiveServer``) of its own."""
    yield from serving(tmp_path_factory.mktemp("site-server"), built_site)


@pytest.fixture
def visitor(page: Any, site_server: LiveServer) -> Visitor:
    """A first-time visitor's browser on the real site and service."""
    return Visitor(page, site_server.url)
