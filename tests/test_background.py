"""Periodic jobs in the serving process: they run at once, repeat, survive failures, stop."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app

from consent_api import background, create_app


def test_job_runs_at_start_repeats_and_survives_a_failure(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "TEST_INTERVAL": 0.05})
    runs: list[str] = []
    enough = threading.Event()

    def job() -> None:
        runs.append(current_app.name)
        if len(runs) == 1:
            raise RuntimeError("the first run fails, as a database restart would")
        if len(runs) >= 3:
            enough.set()

    background.register(app, "test-job", "TEST_INTERVAL", job)
    stop = background.start(app)
    try:
        assert enough.wait(5), runs
    finally:
        stop.set()
    assert runs[:3] == [app.name] * 3


def test_interval_zero_switches_a_job_off(app: Flask) -> None:
    app.config["OFF_INTERVAL"] = 0
    ran = threading.Event()
    background.register(app, "off-job", "OFF_INTERVAL", ran.set)
    background.start(app).set()
    assert not ran.wait(0.2)
