"""Faults end with every acknowledged record present and verifiable: a full disk, a database
that goes away and comes back. (SIGKILL mid-stream is in test_records.py.)"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from consentkit import consent_body
from flask import Flask
from tcpproxy import TcpProxy

from consent_api import create_app
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.site import registry


def stored_ids(app: Flask) -> set[str]:
    with app.app_context():
        return {record.public_id for record in records.of_kind("consent")}


def test_full_disk_answers_503_stores_nothing_partial_and_recovers(app: Flask) -> None:
    client = app.test_client()
    body = consent_body(registry.get(app))
    acknowledged = {client.post("/api/consent", json=body).json["record_id"]}
    engine = storage.get_engine(app)
    with engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()

    def no_room(dbapi_connection: Any, _record: Any) -> None:
        # SQLite's own page-count limit: the file cannot grow, exactly as on a full disk.
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    sa.event.listen(engine, "connect", no_room)
    storage.dispose(app)
    refusals = []
    for _ in range(2000):
        response = client.post("/api/consent", json=body)
        if response.status_code == 201:
            acknowledged.add(response.json["record_id"])
            continue
        refusals.append(response)
        if len(refusals) == 3:
            break
    assert [r.status_code for r in refusals] == [503, 503, 503]
    assert refusals[0].json["error"]["code"] == "storage_full"
    assert "no space" in refusals[0].json["error"]["message"]
    assert stored_ids(app) == acknowledged
    # Health says what a write would meet, though reads still work.
    health = client.get("/api/health")
    assert health.status_code == 503
    assert health.json["error"]["code"] == "storage_full"

    sa.event.remove(engine, "connect", no_room)
    storage.dispose(app)
    assert client.get("/api/health").status_code == 200
    response = client.post("/api/consent", json=body)
    assert response.status_code == 201
    acknowledged.add(response.json["record_id"])
    assert stored_ids(app) == acknowledged
    with app.app_context():
        assert records.verify_all().failed == []


#: A serving process's checkpoint job on a file system that lets the database file grow no more:
#: RLIMIT_FSIZE makes every write past the file's size fail, as a full disk does.
CHECKPOINT_ON_A_FULL_DISK = """
import logging, os, resource, signal, sys, threading
from consent_api import background, create_app
from consent_api.records import store as records
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write (EFBIG), do not kill
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="LOG %(message)s")
app = create_app({
    "DATABASE_URL": sys.argv[1], "SECRET_KEYS": ["k"], "SITE_DIR": "", "AUTO_MIGRATE": True,
    "CHECKPOINT_INTERVAL": 0.02, "PURGE_INTERVAL": 0, "OUTBOX_INTERVAL": 0, "ACCESS_LOG": False,
})
with app.app_context():
    for n in range(300):  # no job runs yet: the log holds them all
        records.store("consent", {"n": n, "pad": "x" * 2000}, "2026-03-24")
size = os.path.getsize(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
stop = background.start(app)
threading.Event().wait(1.0)  # some fifty runs of the job
print("LOG room again", file=sys.stderr, flush=True)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
threading.Event().wait(0.5)
stop.set()
"""


def test_the_checkpoint_job_logs_a_full_disk_once_then_retries_quietly(tmp_path: Path) -> None:
    path = tmp_path / "full.sqlite3"
    result = subprocess.run(
        [sys.executable, "-c", CHECKPOINT_ON_A_FULL_DISK, f"sqlite:///{path}", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("LOG")]
    failed = [line for line in lines if "checkpoints fail" in line]
    assert len(failed) == 1, result.stderr
    assert "OperationalError" in failed[0]
    assert "Traceback" not in result.stderr
    assert lines.index(failed[0]) < lines.index("LOG room again")
    assert [line for line in lines if "checkpoints work again" in line]  # and said once more


@pytest.fixture
def proxied_postgres(postgres_schema_url: str) -> Iterator[tuple[str, TcpProxy]]:
    url = sa.make_url(postgres_schema_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    proxy.cut()


@pytest.mark.postgres
def test_postgres_outage_answers_503_then_recovers_without_restart(
    app_config: dict[str, Any], proxied_postgres: tuple[str, TcpProxy]
) -> None:
    url, proxy = proxied_postgres
    app = create_app({**app_config, "DATABASE_URL": url, "AUTO_MIGRATE": True})
    client = app.test_client()
    body = consent_body(registry.get(app))
    acknowledged = {client.post("/api/consent", json=body).json["record_id"]}

    proxy.cut()
    down = client.post("/api/consent", json=body)
    assert down.status_code == 503
    assert down.json["error"]["code"] == "storage_unavailable"
    assert client.get("/api/health").status_code == 503

    proxy.restore()
    assert client.get("/api/health").status_code == 200
    back = client.post("/api/consent", json=body)
    assert back.status_code == 201
    acknowledged.add(back.json["record_id"])
    assert stored_ids(app) == acknowledged
    with app.app_context():
        assert records.verify_all().failed == []
    storage.dispose(app)


@pytest.mark.postgres
def test_a_write_after_postgresql_dropped_the_connection_still_lands(
    app_config: dict[str, Any], postgres_schema_url: str, postgres_url: str
) -> None:
    app = create_app({**app_config, "DATABASE_URL": postgres_schema_url, "AUTO_MIGRATE": True})
    with app.app_context():
        records.store("consent", {"n": 1}, "2026-03-24")
        # The pool keeps the write's connection for the next one. The server ends it (a
        # restart, an idle timeout): the next write replaces it instead of answering 503.
        with storage.get_engine(app).connect() as pooled:
            pid = pooled.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        records.store("consent", {"n": 2}, "2026-03-24")
        assert len(records.of_kind("consent")) == 2
    storage.dispose(app)
