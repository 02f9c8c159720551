"""Two service processes against one PostgreSQL database and one Redis, as behind a load
balancer: records from both verify, the rate limit is one limit, each expired record is purged
once, each notification and each webhook event is sent once."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
import trustme
from conftest import BIN, ROOT, LiveServer
from consentkit import consent_body
from inquiry_support import VALID, SmtpServer
from webhook_support import Receiver, ca_bundle, new_secret

from consent_api import create_app
from consent_api.records import schema
from consent_api.records import store as records
from consent_api.site import registry

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
SECRET = "two-instances-secret-key"


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """GET, or POST ``body`` as JSON; the status and the JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@dataclass
class Cluster:
    a: LiveServer
    b: LiveServer
    env: dict[str, str]
    database_url: str
    smtp: SmtpServer
    crm: Receiver

    def both(self) -> Iterator[LiveServer]:
        while True:
            yield self.a
            yield self.b

    def command(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(BIN / "consent-api"), *args],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


@pytest.fixture
def cluster(
    postgres_schema_url: str, redis_url: str, built_site: Path, tmp_path: Path
) -> Iterator[Cluster]:
    smtp = SmtpServer()
    smtp.start()
    crm = Receiver(trustme.CA(), {"/inbound": new_secret()})
    crm.start()
    env = {
        "CONSENT_API_SECRET_KEYS": SECRET,
        "CONSENT_API_DATABASE_URL": postgres_schema_url,
        "CONSENT_API_AUTO_MIGRATE": "true",
        "CONSENT_API_SITE_DIR": str(built_site),
        "CONSENT_API_RATELIMIT_STORAGE_URI": redis_url,
        # A prefix of its own, so that other runs' counts never meet this test's.
        "CONSENT_API_RATELIMIT_KEY_PREFIX": f"instances-{secrets.token_hex(4)}",
        "CONSENT_API_INQUIRY_RATE_LIMIT": "4 per minute",
        "CONSENT_API_FORM_TOKEN_MIN_SECONDS": "0",
        "CONSENT_API_SMTP_HOST": "127.0.0.1",
        "CONSENT_API_SMTP_PORT": str(smtp.port),
        "CONSENT_API_SMTP_STARTTLS": "false",
        "CONSENT_API_MAIL_FROM": "website@carecaller.test",
        "CONSENT_API_SALES_EMAIL": "sales@carecaller.test",
        "CONSENT_API_ENV": "development",  # the CRM's receiver is on this machine (loopback)
        "CONSENT_API_WEBHOOK_URLS": crm.url("/inbound"),
        "CONSENT_API_WEBHOOK_SECRETS": crm.secrets["/inbound"],
        "CONSENT_API_WEBHOOK_CA_BUNDLE": ca_bundle(crm.ca, tmp_path),
        "CONSENT_API_OUTBOX_INTERVAL": "0.2",
        "CONSENT_API_PURGE_INTERVAL": "0",
        "CONSENT_API_ACCESS_LOG": "false",
    }
    a, b = LiveServer(env), LiveServer(env)
    # Both start at once and both migrate: the migration lock lets exactly one do it.
    try:
        a.launch()
        b.launch()
        a.wait_ready()
        b.wait_ready()
        yield Cluster(a, b, env, postgres_schema_url, smtp, crm)
    finally:
        stop_both(a, b)
        smtp.stop()
        crm.stop()


def stop_both(a: LiveServer, b: LiveServer) -> None:
    """Both shut down side by side; each finishes what it was delivering."""
    a.terminate()
    b.terminate()
    a.stop()
    b.stop()


def inquiry(server: LiveServer) -> tuple[int, dict[str, Any]]:
    _, issued = call(f"{server.url}/api/form-token")
    return call(
        f"{server.url}/api/contact", {**VALID["contact"], "form_token": issued["form_token"]}
    )


def test_records_from_both_are_stored_and_verify_on_either(cluster: Cluster) -> None:
    made = []
    for server, _ in zip(cluster.both(), range(10), strict=False):
        status, answer = call(
            f"{server.url}/api/consent",
            consent_body(registry.load(ROOT / "mkdocs.yml"), accept=True),
        )
        assert status == 201, answer
        made.append((server, answer["receipt"]))
    for server, receipt in made:
        other = cluster.b if server is cluster.a else cluster.a
        status, shown = call(f"{other.url}/api/consent/{receipt}")
        assert status == 200, shown
    verify = cluster.command("verify")
    output, _ = verify.communicate(timeout=60)
    assert verify.returncode == 0, output
    assert "10 records checked, 0 failed" in output


def test_the_rate_limit_is_one_limit_across_both(cluster: Cluster) -> None:
    statuses = [inquiry(server)[0] for server, _ in zip(cluster.both(), range(7), strict=False)]
    assert statuses == [201, 201, 201, 201, 429, 429, 429]


def test_each_notification_is_sent_once_by_two_delivering_instances(cluster: Cluster) -> None:
    references = []
    for server, _ in zip(cluster.both(), range(4), strict=False):
        status, answer = inquiry(server)
        assert status == 201, answer
        references.append(answer["reference"])
    # A delivery is marked sent once its message is accepted: when none waits, every
    # notification has been sent; once both instances have stopped, nothing more can come.
    deadline = time.monotonic() + 30
    while waiting(cluster.database_url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert waiting(cluster.database_url) == 0
    stop_both(cluster.a, cluster.b)
    sent = [message["Subject"] for message in cluster.smtp.inbox.messages]
    assert len(sent) == len(references)
    for reference in references:
        assert sum(reference in subject for subject in sent) == 1, (reference, sent)
    # The webhook events too: each verified, each taken once, each under its own webhook-id.
    assert cluster.crm.unverified == []
    received = [r.event["data"]["reference"] for r in cluster.crm.received]
    assert sorted(received) == sorted(references)
    assert len({r.webhook_id for r in cluster.crm.received}) == len(references)


def waiting(database_url: str) -> int:
    """Deliveries not yet sent (pending or failed), on every channel."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(
            sa.select(sa.func.count())
            .select_from(schema.outbox)
            .where(schema.outbox.c.status != "sent")
        )
    engine.dispose()
    return int(count or 0)


def test_purges_from_both_hosts_at_once_delete_each_expired_record_once(
    cluster: Cluster,
) -> None:
    app = create_app(
        {"DATABASE_URL": cluster.database_url, "SECRET_KEYS": [SECRET], "SITE_DIR": ""}
    )
    period = registry.get(app).retention["contact"].period
    with app.app_context():
        with time_machine.travel(dt.datetime.now(dt.UTC) - period - dt.timedelta(days=2)):
            expired = {
                records.store("contact", {"n": n}, "2026-03-24").public_id for n in range(300)
            }
        live = {records.store("contact", {"n": n}, "2026-03-24").public_id for n in range(20)}
    # Small batches, so that the two runs overlap and contend for the same rows.
    cluster.env["CONSENT_API_PURGE_BATCH_SIZE"] = "20"
    purges = [cluster.command("purge"), cluster.command("purge")]
    outputs = [purge.communicate(timeout=120)[0] for purge in purges]
    assert [purge.returncode for purge in purges] == [0, 0], outputs

    engine = sa.create_engine(cluster.database_url)
    with engine.connect() as connection:
        remaining = set(connection.scalars(sa.select(schema.records.c.public_id)))
        logs = [
            json.loads(row) for row in connection.scalars(sa.select(schema.purge_log.c.deleted))
        ]
    engine.dispose()
    assert remaining == live
    assert not remaining & expired
    assert sum(log.get("contact", 0) for log in logs) == len(expired)
