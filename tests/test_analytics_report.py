"""``consent-api report`` on every backend: every format, the empty database, the purge of the
aggregates, and the HTML report in a real browser."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from analytics_support import daily, post, view
from flask import Flask
from flask.testing import FlaskCliRunner

from consent_api.cli import cli
from consent_api.records import store as records
from consent_api.site import registry

DAY = dt.datetime(2026, 4, 6, 12, tzinfo=dt.UTC)
CONSENT_ID = records.new_id()
OLD_BANNER = "0123456789abcdef"


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Every test here runs on SQLite and on PostgreSQL.
    return backend_url


def choose(action: str, analytics: bool, *, gpc: bool = False, banner: str = "") -> None:
    reg = registry.get()
    payload = {
        "action": action,
        "choices": {"necessary": True, "analytics": analytics},
        "banner_fingerprint": banner or reg.banner_fingerprint,
        "gpc": gpc,
        "page": "/",
    }
    records.store("consent", payload, reg.version_ids[-1], consent_id=CONSENT_ID)


@pytest.fixture
def filled(app: Flask) -> Flask:
    """Four choices (half of them accept analytics, one with GPC) and a visitor's day: the
    demo page viewed from a search engine, the demo form sent, the platform page viewed."""
    client = app.test_client()
    with time_machine.travel(DAY, tick=False):
        with app.app_context():
            choose("reject_all", False, banner=OLD_BANNER)
            choose("accept_all", True, banner=OLD_BANNER)
            choose("accept_all", True)
            choose("save_choices", False, gpc=True)
        post(client, view("/demo/", referrer="www.example.com", viewport="small"))
        post(client, {"name": "conversion", "path": "/demo/"})
        post(client, view("/platform/"))
        post(client, view("/platform/"), address="192.0.2.8")
    return app


def report(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(cli, ["report", *args])
    assert result.exit_code == 0, result.output
    assert CONSENT_ID not in result.output
    return result.output


def test_text_report_gives_consent_and_site_figures(filled: Flask, runner: FlaskCliRunner) -> None:
    text = report(runner)
    assert "Consent: 4 choices, 25.0% with GPC" in text
    assert "opt-in rate, analytics: 50.0%" in text
    assert "Site: 3 page views, 2 visitors" in text
    lines = text.splitlines()
    assert any(line.split()[:3] == ["/platform/", "2", "2"] for line in lines)
    assert any(line.split()[:2] == ["www.example.com", "1"] for line in lines)
    assert any(line.split()[:6] == ["demo", "/demo/", "1", "1", "1", "100.0%"] for line in lines)
    # The banner change: each fingerprint has its own row and rate.
    assert any(OLD_BANNER in line and line.endswith("50.0%") for line in lines), text


def test_csv_report_is_one_long_table(filled: Flask, runner: FlaskCliRunner) -> None:
    rows = list(csv.reader(io.StringIO(report(runner, "--format", "csv"))))
    assert rows[0] == ["section", "day", "name", "value"]
    found = {(section, day, name): value for section, day, name, value in rows[1:]}
    assert found[("consent", "", "opt_in:analytics")] == "0.5"
    assert found[("consent_day", DAY.date().isoformat(), "accept_all")] == "2"
    assert found[("site_day", DAY.date().isoformat(), "visitors")] == "2"
    assert found[("referrer", "", "www.example.com")] == "1"
    assert found[("funnel", "", "demo:sent")] == "1"
    assert found[("funnel", "", "contact:views")] == "0"


def test_json_report_nests_every_figure(filled: Flask, runner: FlaskCliRunner) -> None:
    document = json.loads(report(runner, "--format", "json"))
    assert document["empty"] is False
    assert document["consent"]["choices"] == 4
    versions = document["consent"]["per_version"]
    rates = [(v["banner_fingerprint"], v["opt_in"]["analytics"]) for v in versions]
    assert rates == [(OLD_BANNER, 0.5), (registry.get(filled).banner_fingerprint, 0.5)]
    assert document["site"]["per_day"] == [
        {"day": DAY.date().isoformat(), "views": 3, "visitors": 2}
    ]
    assert document["site"]["viewports"][0] == {"viewport": "large", "views": 2}


def test_the_period_selects_the_days(filled: Flask, runner: FlaskCliRunner) -> None:
    after = (DAY.date() + dt.timedelta(days=1)).isoformat()
    document = json.loads(report(runner, "--format", "json", "--since", after))
    assert document["empty"] is True
    same = json.loads(report(runner, "--format", "json", "--until", DAY.date().isoformat()))
    assert same["site"]["views"] == 3


def test_a_date_that_is_not_one_is_refused(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(cli, ["report", "--since", "last week"])
    assert result.exit_code == 2
    assert "not a date like 2026-03-24" in result.output


@pytest.mark.parametrize("fmt", ["text", "csv", "json", "html"])
def test_an_empty_database_says_there_is_no_data_yet(
    app: Flask, runner: FlaskCliRunner, fmt: str
) -> None:
    output = report(runner, "--format", fmt)
    if fmt == "csv":
        assert output == "section,day,name,value\n"
    else:
        assert "No data yet" in output
    if fmt == "json":
        assert json.loads(output)["empty"] is True


def test_html_report_is_one_file_with_charts_and_no_consent_id(
    filled: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "report.html"
    report(runner, "--format", "html", "--output", str(path))
    html = path.read_text(encoding="utf-8")
    assert html.count("<svg") == 5
    assert "<script" not in html and "<link" not in html
    assert CONSENT_ID not in html


def test_the_purge_deletes_aggregates_past_their_period_only(
    filled: Flask, runner: FlaskCliRunner
) -> None:
    days = registry.get(filled).retention["analytics"].days
    later = DAY + dt.timedelta(days=days - 1)
    with time_machine.travel(later, tick=False):
        post(filled.test_client(), view())
        assert "analytics 0" in runner.invoke(cli, ["purge", "--dry-run"]).output
    with time_machine.travel(later + dt.timedelta(days=2), tick=False):
        # The old day's rows: views of /demo/ and /platform/, the demo form sent, the whole
        # site's views; a referring site and two viewport classes.
        assert "analytics 7" in runner.invoke(cli, ["purge", "--dry-run"]).output
        assert "analytics 7" in runner.invoke(cli, ["purge"]).output
    assert daily(filled) == {("/", "pageview"): (1, 1), ("", "pageview"): (1, 1)}


@pytest.mark.browser
def test_html_report_opens_in_chromium_without_requests(
    filled: Flask, runner: FlaskCliRunner, browser: Any, tmp_path: Path
) -> None:
    path = tmp_path / "report.html"
    report(runner, "--format", "html", "--output", str(path))
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(path.as_uri())
        assert requested == [path.as_uri()]
        assert page.get_by_role("heading", name="CareCaller report").is_visible()
        charts = page.locator("figure svg")
        assert charts.count() == 5
        for index in range(charts.count()):
            box = charts.nth(index).bounding_box()
            assert box is not None and box["width"] > 600 and box["height"] > 200
        assert page.locator("figure svg text", has_text="Opt-in rate per day").first.is_visible()
        shot = tmp_path / "report.png"  # looked at while writing this test
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
    finally:
        context.close()
