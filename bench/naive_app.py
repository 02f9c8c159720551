"""The naive durable implementation the service is measured against: what a quick first version of
``POST /api/consent`` would be, durable but with none of the service's care for throughput.

It parses the JSON with Flask, signs the record with itsdangerous and inserts it into SQLite in
a transaction of its own, committed with ``synchronous=FULL`` (WAL, as any sensible setup has),
before answering 201 with a receipt. Each thread keeps its own connection. It runs under the same
server and settings as the service and the bare route (``bench/service_throughput.py``), with
its database file at ``BENCH_NAIVE_DATABASE``.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time

from flask import Flask, abort, request
from itsdangerous import URLSafeSerializer

from bench import bare_app
from consent_api import config

app = Flask(__name__)
# What the embedded server reads from an app's configuration: the service's own defaults.
app.config.from_mapping(
    {key: config.DEFAULTS[key] for key in ("MAX_CONTENT_LENGTH", "REQUEST_TIMEOUT", "HSTS_SECONDS")}
)
DATABASE = os.environ.get("BENCH_NAIVE_DATABASE", "naive.sqlite3")
signer = URLSafeSerializer("naive-benchmark-key", salt="consent")
local = threading.local()


def connection() -> sqlite3.Connection:
    if not hasattr(local, "db"):
        db = sqlite3.connect(DATABASE, timeout=5, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, public_id TEXT,"
            " created_at REAL, payload TEXT, signature TEXT)"
        )
        local.db = db
    opened: sqlite3.Connection = local.db
    return opened


@app.post("/api/consent")
def consent() -> tuple[dict[str, str], int]:
    body = request.get_json()
    if not isinstance(body, dict) or body.get("choices", {}).get("necessary") is not True:
        abort(400)
    public_id = secrets.token_urlsafe(16)
    payload = json.dumps(body, sort_keys=True)
    signature = signer.dumps([public_id, payload])
    db = connection()
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "INSERT INTO records (public_id, created_at, payload, signature) VALUES (?, ?, ?, ?)",
        (public_id, time.time(), payload, signature),
    )
    db.execute("COMMIT")
    return {"record_id": public_id, "receipt": signer.dumps(public_id)}, 201


@app.get("/health")
def health() -> str:
    return "ok"


if __name__ == "__main__":
    bare_app.serve_reference(app, "python -m bench.naive_app")
