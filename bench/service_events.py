"""``POST /api/events`` (analytics page views) beside the bare Flask route, on both backends, and
the service's memory over many events (SQLite).

Throughput: both servers at once under the same gunicorn settings; wrk loads one at a time in
short rounds that alternate which goes first, as for the consent post. Each page view comes from
one of 1,000 client addresses and names one of the site's pages, so the unique-visitor keys and
the rate limit's counters see many visitors. Memory: the RSS of the gunicorn master and workers
after a warm-up and after ``EVENTS`` page views; flat when the end is within 10% of the start.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from typing import Any

from sqlalchemy import create_engine, text

from . import service
from .common import (
    BENCH_DIR,
    ROOT,
    THREADS,
    WORKERS,
    Result,
    Unavailable,
    bare_server,
    command_line,
    http,
    median,
    new_result,
    pick,
    rss_kib,
    service_server,
    target,
)

NAME = "service_events"
TITLE = "Analytics ingest: POST /api/events vs a bare Flask route; memory over 1,000,000 events"
RATIO_TARGET = 0.5
GROWTH_LIMIT = 0.10
EVENTS = pick(1_000_000, 20_000)
ROUND_SECONDS = 3.0
SCRIPT = BENCH_DIR / "events.lua"
#: Pages of the built site the events name (the service accepts only built pages).
PATHS = "/,/platform/,/security/,/company/,/contact/,/demo/"
#: High enough never to refuse a benchmark request, so the limiter's cost is still measured.
ENV = {"CONSENT_API_PROXY_HOPS": "1", "CONSENT_API_EVENTS_RATE_LIMIT": "10000000 per minute"}


def wrk(url: str, path: str, seconds: float) -> dict[str, Any]:
    """One wrk run of page views against ``url`` + ``path``; its summary and command."""
    env = {"BENCH_TARGET": path, "BENCH_PATHS": PATHS}
    argv = [service.require_wrk(), f"-t{service.WRK_THREADS}", f"-c{service.CONNECTIONS}"]
    argv += [f"-d{max(1, math.ceil(seconds))}s", "--timeout", "5s", "-s", str(SCRIPT), url]
    done = subprocess.run(
        argv, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    summary: dict[str, Any] = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    summary["error_count"] = sum(summary["errors"].values())
    summary["command"] = command_line(["wrk", *argv[1:]], env)
    return summary


def counted(database_url: str) -> int:
    """Page views the service has counted (every page's, not the whole site's row)."""
    engine = create_engine(database_url)
    query = "SELECT coalesce(sum(events), 0) FROM analytics_daily WHERE path <> ''"
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text(query)) or 0)
    finally:
        engine.dispose()


def _probe(base_url: str) -> None:
    status, answer = http(
        "POST", base_url + "/api/events", b'{"name":"pageview","path":"/"}', "text/plain"
    )
    if status in {404, 405}:
        raise Unavailable(f"POST /api/events answers {status}: analytics is not on this branch")
    if status != 204:
        raise RuntimeError(f"POST /api/events answered {status}: {answer[:300]!r}")


def _throughput(kind: str) -> dict[str, Any]:
    schema = "bench_events"
    url = service.reset_postgres(schema) if kind == "postgresql" else service.sqlite_url(NAME)
    data: dict[str, Any] = {"status": "ok", "commands": [service.migrate(url)]}
    env = {"CONSENT_API_DATABASE_URL": url, **ENV}
    try:
        with bare_server(f"{NAME}-bare") as bare, service_server(f"{NAME}-{kind}", env) as app:
            data["commands"] += [command_line(bare.argv), command_line(app.argv, env)]
            _probe(app.url)
            before = counted(url)
            # The bare route answers 204 to any body: the same requests, without the service.
            sides = {"bare": (bare.url, "/api/consent"), "service": (app.url, "/api/events")}
            warmup = [wrk(base, path, 2.0) for base, path in sides.values()]
            rounds = []
            for number in range(pick(10, 2)):
                order = ["bare", "service"] if number % 2 == 0 else ["service", "bare"]
                runs: dict[str, Any] = {side: wrk(*sides[side], ROUND_SECONDS) for side in order}
                runs["ratio"] = runs["service"]["rps"] / runs["bare"]["rps"]
                rounds.append(runs)
            stored = counted(url) - before
    finally:
        if kind == "postgresql":
            service.drop_postgres(schema)
    answers = [warmup[1], *(r["service"] for r in rounds)]
    data.update(
        rounds=rounds,
        wrk_command=rounds[0]["service"]["command"],
        ratio=median([r["ratio"] for r in rounds]),
        service_rps=median([r["service"]["rps"] for r in rounds]),
        bare_rps=median([r["bare"]["rps"] for r in rounds]),
        p99_ms=median([r["service"]["latency_us"]["p99"] / 1000 for r in rounds]),
        errors=sum(r[side]["error_count"] for r in rounds for side in ("service", "bare")),
        counted=stored,
        answers_204=sum(run["requests"] - run["errors"]["status"] for run in answers),
    )
    return data


def _memory() -> dict[str, Any]:
    url = service.sqlite_url(f"{NAME}-memory")
    env = {"CONSENT_API_DATABASE_URL": url, **ENV}
    commands = [service.migrate(url)]
    with service_server(f"{NAME}-memory", env) as app:
        commands.append(command_line(app.argv, env))
        pids = app.wait_for_workers(WORKERS)
        _probe(app.url)
        wrk(app.url, "/api/events", 5.0)
        start = sum(rss_kib(pid) for pid in pids)
        first = counted(url)
        runs: list[dict[str, Any]] = []
        while counted(url) - first < EVENTS:
            rate = sum(r["requests"] for r in runs) / max(sum(r["duration_us"] for r in runs), 1)
            left = (EVENTS - (counted(url) - first)) / (rate * 1e6) if runs else 15.0
            runs.append(wrk(app.url, "/api/events", min(15.0, left + 0.5)))
        end = sum(rss_kib(pid) for pid in pids)
        events = counted(url) - first
    return {
        "commands": commands,
        "start_kib": start,
        "end_kib": end,
        "growth": (end - start) / start,
        "events": events,
        "rps": sum(r["requests"] for r in runs) / sum(r["duration_us"] / 1e6 for r in runs),
        "errors": sum(r["error_count"] for r in runs),
    }


def run() -> Result:
    result = new_result(NAME, TITLE)
    result["setup"] = {"workers": WORKERS, "threads": THREADS, "events": EVENTS, "paths": PATHS}
    service.require_wrk()
    if not (ROOT / "site" / "index.html").is_file():
        raise Unavailable("no built site in site/: run 'make build' (events name its pages)")
    result["backends"] = {}
    for kind in ("sqlite", "postgresql"):
        try:
            result["backends"][kind] = _throughput(kind)
        except Unavailable as reason:
            result["backends"][kind] = {"status": "not available", "reason": str(reason)}
    for kind, data in result["backends"].items():
        if data["status"] != "ok":
            result["targets"].append(
                target(f"{kind}: events throughput", f"≥ {RATIO_TARGET}", data["reason"], None)
            )
            continue
        result["commands"].extend([*data["commands"], data["wrk_command"]])
        result["targets"] += [
            target(
                f"{kind}: POST /api/events vs bare Flask",
                f"≥ {RATIO_TARGET}",
                f"{data['ratio']:.2f} ({data['service_rps']:.0f} vs {data['bare_rps']:.0f} req/s)",
                data["ratio"] >= RATIO_TARGET,
            ),
            target(f"{kind}: errors", "0", str(data["errors"]), data["errors"] == 0),
            target(
                f"{kind}: every 204 counted",
                "counted ≥ 204s",
                f"{data['counted']} counted, {data['answers_204']} answers",
                data["counted"] >= data["answers_204"],
            ),
        ]
    memory = result["memory"] = _memory()
    result["commands"].extend(memory["commands"])
    result["targets"] += [
        target(
            "RSS flat over the events (SQLite)",
            f"end ≤ start + {GROWTH_LIMIT:.0%}",
            f"{memory['start_kib'] / 1024:.1f} → {memory['end_kib'] / 1024:.1f} MiB "
            f"({memory['growth']:+.1%}) over {memory['events']:,} events",
            memory["growth"] <= GROWTH_LIMIT,
        ),
        target("errors while counting", "0", str(memory["errors"]), memory["errors"] == 0),
    ]
    return result


def markdown(result: Result) -> list[str]:
    setup = result["setup"]
    lines = [
        f"gunicorn gthread, {setup['workers']} workers x {setup['threads']} threads for both; "
        f"wrk with {service.CONNECTIONS} connections, page views from 1,000 addresses over "
        f"`{setup['paths']}`; rounds of {ROUND_SECONDS:g} s alternate which side goes first.",
        "",
        "| backend | bare req/s | service req/s | ratio | service p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, data in result["backends"].items():
        if data["status"] != "ok":
            lines.append(f"| {kind} | — | — | — | — | {data['reason']} |")
            continue
        lines.append(
            f"| {kind} | {data['bare_rps']:.0f} | {data['service_rps']:.0f} | "
            f"**{data['ratio']:.2f}** | {data['p99_ms']:.1f} | {data['errors']} |"
        )
    memory = result.get("memory")
    if memory:
        lines += [
            "",
            f"Memory (SQLite): {memory['events']:,} page views at {memory['rps']:.0f} req/s; "
            f"RSS of master and workers {memory['start_kib'] / 1024:.1f} MiB after the warm-up, "
            f"{memory['end_kib'] / 1024:.1f} MiB at the end ({memory['growth']:+.1%}).",
        ]
    return lines
