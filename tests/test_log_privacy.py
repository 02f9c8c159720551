"""No personal data reaches a log when the database refuses a statement: neither SQLAlchemy's
``[parameters: …]`` nor PostgreSQL's "Failing row contains (…)"; only classes and SQLSTATEs."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from inquiry_support import post

from consent_api import background, create_app
from consent_api.records import storage

pytestmark = pytest.mark.postgres

SECRETS = ("Ada Lovelace", "ada@example.com", "scheduling workflows")


@pytest.fixture
def checked_app(app_config: dict[str, Any], postgres_schema_url: str) -> Any:
    app = create_app({**app_config, "DATABASE_URL": postgres_schema_url})
    with storage.get_engine(app).begin() as connection:
        # A CHECK that every inquiry fails: the database quotes the failing row in its error.
        connection.exec_driver_sql(
            "ALTER TABLE records ADD CONSTRAINT short_payload CHECK (length(payload) < 20)"
        )
    yield app
    storage.dispose(app)


def assert_no_personal_data(caplog: pytest.LogCaptureFixture) -> str:
    text = "\n".join(
        record.getMessage() + (str(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    )
    for secret in SECRETS:
        assert secret not in text
    assert "Failing row" not in text and "[parameters:" not in text
    return text


def test_a_check_failure_on_write_logs_no_personal_data(
    checked_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = post(checked_app.test_client())
    assert answer.status_code == 503
    text = assert_no_personal_data(caplog)
    assert "IntegrityError" in text and "SQLSTATE 23514" in text  # still says what failed


def test_a_check_failure_in_a_background_job_logs_no_personal_data(
    checked_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    checked_app.config["LEAKY_INTERVAL"] = 60
    ran = threading.Event()

    def job() -> None:
        # A job's own statement, outside the storage module's wrappers: the raw driver error.
        try:
            with storage.get_engine().begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO records (kind, public_id, created_at, expires_at,"
                        " policy_version, payload, signature)"
                        " VALUES ('contact', 'x', now(), now(), 'v', :payload, 's')"
                    ),
                    {"payload": " ".join(SECRETS)},
                )
        finally:
            ran.set()

    background.register(checked_app, "leaky-job", "LEAKY_INTERVAL", job)
    stop = background.start(checked_app)
    try:
        assert ran.wait(10)
        for _ in range(50):
            if any("leaky-job" in record.getMessage() for record in caplog.records):
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
    text = assert_no_personal_data(caplog)
    assert "background job leaky-job failed" in text
    assert "IntegrityError" in text and "SQLSTATE 23514" in text


@pytest.mark.parametrize("path", ["/api/leaky", "/leaky/"])
def test_an_unexpected_error_is_logged_without_its_text(
    app_config: dict[str, Any], caplog: pytest.LogCaptureFixture, path: str
) -> None:
    app = create_app(app_config)

    # What PostgreSQL would say; built apart, as the stack in the log shows the raising line.
    quoted = "Failing" + f" row contains ({', '.join(SECRETS)})"

    def leaky() -> str:
        raise RuntimeError(quoted)

    app.add_url_rule(path, "leaky", leaky)
    caplog.set_level(logging.DEBUG)
    assert app.test_client().get(path).status_code == 500
    storage.dispose(app)
    text = assert_no_personal_data(caplog)
    assert f"unexpected error on GET {path}: RuntimeError" in text
