"""The report as plain text, CSV and JSON, from the figures of ``figures.build``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any

from consent_api.analytics.figures import ACTIONS

NO_DATA = (
    "No data yet: no consent choice and no page view has been recorded in this period. "
    "Page views arrive once visitors who accept analytics browse the site."
)


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def period(report: dict[str, Any]) -> str:
    """``2026-03-01 to 2026-03-31``, or the open ends of it."""
    since = report["since"] or "the oldest data kept"
    return f"from {since} to {report['until'] or 'today'}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    lines = [
        ("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip()
        for row in cells
    ]
    lines.insert(1, "  " + "  ".join("-" * width for width in widths))
    return lines


def text(report: dict[str, Any]) -> str:
    """Tables a person reads in a terminal."""
    lines = [f"CareCaller report, {period(report)}", f"Generated {report['generated_at']}", ""]
    if report["empty"]:
        return "\n".join([*lines, NO_DATA, ""])
    consent, site = report["consent"], report["site"]
    cats = consent["categories"]
    lines += [
        f"Consent: {consent['choices']} choices, {percent(consent['gpc_share'])} with GPC",
        *(f"  opt-in rate, {name}: {percent(consent['opt_in'][name])}" for name in cats),
        "",
        "Choices per day",
        *_table(
            ["day", *ACTIONS, "GPC", *(f"opt-in {name}" for name in cats)],
            [
                [
                    d["day"],
                    *(d[a] for a in ACTIONS),
                    d["gpc"],
                    *(percent(d["opt_in"][n]) for n in cats),
                ]
                for d in consent["per_day"]
            ],
        ),
        "",
        "Opt-in per policy version and banner",
        *_table(
            ["policy", "banner", "since", "choices", "GPC", *(f"opt-in {name}" for name in cats)],
            [
                [
                    v["policy_version"],
                    v["banner_fingerprint"],
                    v["first_day"],
                    v["choices"],
                    percent(v["gpc_share"]),
                    *(percent(v["opt_in"][name]) for name in cats),
                ]
                for v in consent["per_version"]
            ],
        ),
        "",
        f"Site: {site['views']} page views, {site['visitors']} visitors (counted once a day)",
        *_table(
            ["day", "views", "visitors"],
            [[d["day"], d["views"], d["visitors"]] for d in site["per_day"]],
        ),
        "",
        "Top pages",
        *_table(
            ["page", "views", "visitors"],
            [[p["path"], p["views"], p["visitors"]] for p in site["top_pages"]],
        ),
        "",
        "Top referring sites",
        *_table(["site", "views"], [[r["host"], r["views"]] for r in site["top_referrers"]]),
        "",
        "Screen sizes",
        *_table(["viewport", "views"], [[v["viewport"], v["views"]] for v in site["viewports"]]),
        "",
        "Forms: page viewed, then sent",
        *_table(
            ["form", "page", "views", "visitors", "sent", "sent / visitors"],
            [
                [f["form"], f["page"], f["views"], f["visitors"], f["sent"], percent(f["rate"])]
                for f in site["funnels"]
            ],
        ),
        "",
    ]
    return "\n".join(lines)


def rows(report: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """Every figure as (section, day, name, value): one long table that spreadsheets pivot."""
    consent, site = report["consent"], report["site"]
    yield "consent", "", "choices", consent["choices"]
    yield "consent", "", "gpc_share", consent["gpc_share"]
    for name, share in consent["opt_in"].items():
        yield "consent", "", f"opt_in:{name}", share
    for d in consent["per_day"]:
        for key in ("choices", *ACTIONS, "gpc"):
            yield "consent_day", d["day"], key, d[key]
        for name, share in d["opt_in"].items():
            yield "consent_day", d["day"], f"opt_in:{name}", share
    for v in consent["per_version"]:
        key = f"{v['policy_version']}/{v['banner_fingerprint']}"
        yield "consent_version", v["first_day"], f"{key}:choices", v["choices"]
        yield "consent_version", v["first_day"], f"{key}:gpc_share", v["gpc_share"]
        for name, share in v["opt_in"].items():
            yield "consent_version", v["first_day"], f"{key}:opt_in:{name}", share
    for d in site["per_day"]:
        yield "site_day", d["day"], "views", d["views"]
        yield "site_day", d["day"], "visitors", d["visitors"]
    for p in site["top_pages"]:
        yield "page", "", f"{p['path']}:views", p["views"]
        yield "page", "", f"{p['path']}:visitors", p["visitors"]
    for r in site["top_referrers"]:
        yield "referrer", "", r["host"], r["views"]
    for v in site["viewports"]:
        yield "viewport", "", v["viewport"], v["views"]
    for f in site["funnels"]:
        for key in ("views", "visitors", "sent", "rate"):
            yield "funnel", "", f"{f['form']}:{key}", f[key]


def as_csv(report: dict[str, Any]) -> str:
    """The long table, with a header row; only the header on an empty database."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "day", "name", "value"])
    if not report["empty"]:
        writer.writerows(rows(report))
    return out.getvalue()


def as_json(report: dict[str, Any]) -> str:
    """Every figure, nested as ``figures.build`` gives it, with ``message`` when empty."""
    document = {**report, "message": NO_DATA} if report["empty"] else report
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
