"""Runs the app under gunicorn, the production WSGI server, from the ``serve`` command."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from consent_api import background
from consent_api.records import storage


class EmbeddedServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application serving an already-created Flask app."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def run(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    """Serve ``app`` on ``host:port`` until interrupted."""

    def post_fork(_server: Any, _worker: Any) -> None:
        storage.after_fork(app)

    def post_worker_init(_worker: Any) -> None:
        background.start(app)

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "post_fork": post_fork,
        "post_worker_init": post_worker_init,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "graceful_timeout": 5,
    }
    EmbeddedServer(app, options).run()
