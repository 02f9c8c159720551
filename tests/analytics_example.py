"""Makes the README's example opt-in chart from generated consent choices:
``.venv/bin/python tests/analytics_example.py readme/analytics-opt-in.svg``.

Four weeks of choices in a throwaway SQLite database: the rate of the first two weeks, then a
new banner wording that more visitors accept. The figures are invented; the chart is the one
``consent-api report --format html`` draws.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import tempfile
from pathlib import Path

import time_machine

from consent_api import create_app
from consent_api.analytics import figures, html
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.site import registry

START = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)


def generate(days: int = 28, seed: int = 15) -> None:
    """Store ``days`` days of choices through the records API (inside an app context)."""
    rng = random.Random(seed)
    reg = registry.get()
    for number in range(days):
        with time_machine.travel(START + dt.timedelta(days=number), tick=False):
            rate = 0.38 if number < days // 2 else 0.56
            for _ in range(rng.randint(40, 60)):
                on = rng.random() < rate
                action = "accept_all" if on else rng.choice(["reject_all", "save_choices"])
                payload = {
                    "action": action,
                    "choices": {"necessary": True, **dict.fromkeys(reg.categories, on)},
                    "banner_fingerprint": reg.banner_fingerprint,
                    "gpc": rng.random() < 0.1,
                    "page": "/",
                }
                records.store("consent", payload, reg.version_ids[-1], consent_id=records.new_id())


def main(target: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'example.sqlite3'}",
                "AUTO_MIGRATE": True,
                "ACCESS_LOG": False,
            }
        )
        with app.app_context():
            generate()
            Path(target).write_text(html.opt_in_chart(figures.build()), encoding="utf-8")
        storage.dispose(app)


if __name__ == "__main__":
    main(sys.argv[1])
