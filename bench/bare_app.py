"""The reference for the service benchmarks: a bare Flask route that answers 204.

It runs under the same gunicorn settings as ``consent-api serve`` and receives the same request,
so the ratio of the two isolates what the service itself costs: validation, signing, storage.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.post("/api/consent")
def consent() -> tuple[str, int]:
    return "", 204


@app.get("/health")
def health() -> str:
    return "ok"
