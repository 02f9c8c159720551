"""``consent-api report``: the consent and site figures for marketers, as text, CSV, JSON or
one self-contained HTML file with charts. It reads only aggregates and consent records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext

from consent_api.analytics import figures, formats, html

FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "text": formats.text,
    "csv": formats.as_csv,
    "json": formats.as_json,
    "html": html.as_html,
}


def render(fmt: str, since: dt.date | None = None, until: dt.date | None = None) -> str:
    """The report for ``since`` to ``until`` (both included) in format ``fmt``."""
    return FORMATS[fmt](figures.build(since, until))


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-24") from error


@click.command("report")
@click.option("--since", callback=_date, metavar="DATE", help="First day (default: oldest kept).")
@click.option("--until", callback=_date, metavar="DATE", help="Last day (default: today).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="text",
    show_default=True,
    help="html is one file with charts, to open in a browser.",
)
@click.option(
    "--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File to write."
)
@with_appcontext
def report_command(since: dt.date | None, until: dt.date | None, fmt: str, output: Any) -> None:
    """Consent choices and opt-in rates, page views, visitors, referrers and form funnels."""
    if since and until and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}")
    output.write(render(fmt, since, until))
