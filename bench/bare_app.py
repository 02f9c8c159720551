"""The reference for the service benchmarks: a bare Flask route that answers 204.

It runs under the same server and settings as ``consent-api serve`` and receives the same request,
so the ratio of the two isolates what the service itself costs: validation, signing, storage.
"""

from __future__ import annotations

import argparse

from flask import Flask

from consent_api import config, serve

app = Flask(__name__)
# What the embedded server reads from an app's configuration: the service's own defaults.
app.config.from_mapping(
    {key: config.DEFAULTS[key] for key in ("MAX_CONTENT_LENGTH", "REQUEST_TIMEOUT", "HSTS_SECONDS")}
)


@app.post("/api/consent")
def consent() -> tuple[str, int]:
    return "", 204


@app.get("/health")
def health() -> str:
    return "ok"


def serve_reference(reference: Flask, prog: str) -> None:
    """``python -m PROG --port N --workers W --threads T``: serve a reference app as the service
    is served (``consent_api.serve``), with nothing to do in each worker."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    serve.serve_wsgi(reference, "127.0.0.1", args.port, args.workers, args.threads, lambda: None)


if __name__ == "__main__":
    serve_reference(app, "python -m bench.bare_app")
