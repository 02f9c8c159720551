"""The report's figures, from the daily aggregates and the consent records only.

Nothing here reads a consent ID or an inquiry: the consent figures come from each consent
record's time, policy version and payload (action, choices, GPC, banner fingerprint).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select

from consent_api.analytics import aggregates
from consent_api.analytics.aggregates import CONVERSION, PAGEVIEW, REFERRER, SITE, VIEWPORT
from consent_api.analytics.paths import form_pages
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import records as table
from consent_api.site import registry

ACTIONS = ("accept_all", "reject_all", "save_choices")
#: How many pages and referring sites the report lists.
TOP = 10


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _consent_rows(since: dt.date | None, until: dt.date | None) -> list[Any]:
    conditions = [table.c.kind == "consent", records.live(records.now())]
    if since is not None:
        conditions.append(table.c.created_at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        conditions.append(table.c.created_at < end)
    query = (
        select(table.c.created_at, table.c.policy_version, table.c.payload)
        .where(*conditions)
        .order_by(table.c.created_at)
    )
    with storage.reading() as connection:
        return list(connection.execute(query))


def consent_figures(since: dt.date | None, until: dt.date | None) -> dict[str, Any]:
    """Choices per day by action, the opt-in rate per category (overall, per day, per policy
    version and banner fingerprint) and the share of choices made with GPC."""
    categories = registry.get().categories
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    versions: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    first_seen: dict[tuple[str, str], str] = {}
    total: Counter[str] = Counter()
    for row in _consent_rows(since, until):
        payload = json.loads(row.payload)
        day = row.created_at.date().isoformat()
        version = (row.policy_version, str(payload.get("banner_fingerprint", "")))
        first_seen.setdefault(version, day)
        agreed = [name for name in categories if payload.get("choices", {}).get(name) is True]
        for counter in (per_day[day], versions[version], total):
            counter.update(["choices", f"action:{payload.get('action')}"])
            counter.update(f"on:{name}" for name in agreed)
            if payload.get("gpc"):
                counter["gpc"] += 1

    def rates(counter: Counter[str]) -> dict[str, float]:
        return {name: _share(counter[f"on:{name}"], counter["choices"]) for name in categories}

    return {
        "choices": total["choices"],
        "categories": list(categories),
        "opt_in": rates(total),
        "gpc_share": _share(total["gpc"], total["choices"]),
        "per_day": [
            {
                "day": day,
                "choices": counter["choices"],
                **{action: counter[f"action:{action}"] for action in ACTIONS},
                "gpc": counter["gpc"],
                "opt_in": rates(counter),
            }
            for day, counter in sorted(per_day.items())
        ],
        "per_version": [
            {
                "policy_version": version,
                "banner_fingerprint": fingerprint,
                "first_day": first_seen[(version, fingerprint)],
                "choices": counter["choices"],
                "gpc_share": _share(counter["gpc"], counter["choices"]),
                "opt_in": rates(counter),
            }
            for (version, fingerprint), counter in sorted(
                versions.items(), key=lambda item: first_seen[item[0]]
            )
        ],
    }


def site_figures(since: dt.date | None, until: dt.date | None) -> dict[str, Any]:
    """Views and visitors per day, the top pages and referring hosts, viewport classes, and
    each form's funnel (its page viewed, then the form sent). Visitors are counted once a day:
    over several days, one person who came back is counted on each day."""
    per_day: list[dict[str, Any]] = []
    pages: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in aggregates.daily(since, until):
        if row.path == SITE:
            day = row.day.isoformat()
            per_day.append({"day": day, "views": row.events, "visitors": row.visitors})
        else:
            pages[(row.path, row.event)].update(events=row.events, visitors=row.visitors)
    sources: dict[str, Counter[str]] = defaultdict(Counter)
    for row in aggregates.sources(since, until):
        sources[row.dimension][row.value] += row.views
    views = sorted(
        ((path, c) for (path, event), c in pages.items() if event == PAGEVIEW),
        key=lambda item: (-item[1]["events"], item[0]),
    )
    funnels = []
    for page, form in form_pages().items():
        viewed, sent = pages[(page, PAGEVIEW)], pages[(page, CONVERSION)]
        funnels.append(
            {
                "form": form,
                "page": page,
                "views": viewed["events"],
                "visitors": viewed["visitors"],
                "sent": sent["events"],
                "rate": _share(sent["events"], viewed["visitors"]),
            }
        )
    return {
        "views": sum(day["views"] for day in per_day),
        "visitors": sum(day["visitors"] for day in per_day),
        "per_day": per_day,
        "top_pages": [
            {"path": path, "views": c["events"], "visitors": c["visitors"]}
            for path, c in views[:TOP]
        ],
        "top_referrers": [
            {"host": host, "views": count} for host, count in sources[REFERRER].most_common(TOP)
        ],
        "viewports": [
            {"viewport": name, "views": count} for name, count in sources[VIEWPORT].most_common()
        ],
        "funnels": funnels,
    }


def build(since: dt.date | None = None, until: dt.date | None = None) -> dict[str, Any]:
    """Every figure of the report for ``since`` to ``until`` (both included; None: all kept)."""
    consent, site = consent_figures(since, until), site_figures(since, until)
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "generated_at": records.now().strftime("%Y-%m-%d %H:%M UTC"),
        "empty": not consent["choices"] and not site["views"],
        "consent": consent,
        "site": site,
    }
