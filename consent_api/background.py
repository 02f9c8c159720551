"""Periodic jobs inside a serving process: what a timer does in deployments (purge, outbox).

Modules register a job from their ``init_app``; ``consent-api serve`` starts every registered
job in each worker process once it has forked. A job whose interval setting is 0 is off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from consent_api.exc import traced

EXTENSION = "consent_api.jobs"
logger = logging.getLogger("consent_api.background")


@dataclass(frozen=True)
class Job:
    """``run`` is called in an app context on start, then every ``interval`` seconds."""

    name: str
    interval_setting: str
    run: Callable[[], object]


def register(app: Flask, name: str, interval_setting: str, run: Callable[[], object]) -> None:
    app.extensions.setdefault(EXTENSION, []).append(Job(name, interval_setting, run))


def _loop(app: Flask, job: Job, interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with app.app_context():
                job.run()
        except Exception as error:
            # A failed run (database down, SMTP down) is retried at the next interval. Logged
            # without the exception's text, which a database fills with the failing row.
            logger.error(
                "background job %s failed; retrying in %ss: %s", job.name, interval, traced(error)
            )
        stop.wait(interval)


def start(app: Flask) -> threading.Event:
    """Start every registered job whose interval is above 0; set the event to stop them."""
    stop = threading.Event()
    for job in app.extensions.get(EXTENSION, []):
        interval = float(app.config[job.interval_setting])
        if interval <= 0:
            continue
        thread = threading.Thread(
            target=_loop, args=(app, job, interval, stop), name=job.name, daemon=True
        )
        thread.start()
    return stop
