"""The embedded server against slow clients, and the candidates it was chosen from.

Each candidate serves the same app (``create_app``, SQLite, background jobs off) with the same
workers and threads: ``consent-api serve`` (waitress), gunicorn's threaded worker (what served
before) and granian. Each gets rounds of wrk on ``POST /api/consent``, alternately without and
with 64 slow clients held open (``bench/slow_clients.py``), then its resident memory is read.
The targets are the embedded server's: with the slow clients, a p99 within 2x of the rounds
without, and no errors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from . import service
from .common import (
    BIN,
    QUICK,
    THREADS,
    WORKERS,
    Result,
    Server,
    command_line,
    free_port,
    median,
    new_result,
    pick,
    server_log,
    service_server,
    target,
)
from .slow_clients import SlowClients

NAME = "service_servers"
TITLE = "The embedded server: slow clients, throughput and memory, against gunicorn and granian"
SLOW_CLIENTS = 64
ROUND_SECONDS = 3.0
P99_RATIO_TARGET = 2.0
ADOPTED = "waitress"
APP = "consent_api.app:create_app"


def _gunicorn(name: str, env: dict[str, str]) -> Server:
    port = free_port()
    argv: list[str | Path] = [
        BIN / "gunicorn",
        *("--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--threads", str(THREADS)),
        *("--worker-class", "gthread", "--graceful-timeout", "5", f"{APP}()"),
    ]
    return Server(argv, env=env, port=port, log=server_log(name))


def _granian(name: str, env: dict[str, str]) -> Server:
    port = free_port()
    argv: list[str | Path] = [
        BIN / "granian",
        *("--interface", "wsgi", "--factory", "--host", "127.0.0.1", "--port", str(port)),
        *("--workers", str(WORKERS), "--blocking-threads", str(THREADS), APP),
    ]
    return Server(argv, env=env, port=port, log=server_log(name))


CANDIDATES: dict[str, tuple[str, Callable[[str, dict[str, str]], Server]]] = {
    "waitress": ("consent-api serve", service_server),
    "gunicorn": ("gunicorn 27 gthread", _gunicorn),
    "granian": ("granian 2, WSGI", _granian),
}


def _rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.Error:
            continue
    return total / 1024 / 1024


def _candidate(name: str, body: dict[str, Any]) -> dict[str, Any]:
    label, make = CANDIDATES[name]
    if name != ADOPTED and not (BIN / name).exists():
        return {"status": "not installed", "label": label}
    url = service.sqlite_url(f"{NAME}-{name}")
    env = {
        "CONSENT_API_ENV": "development",
        "CONSENT_API_DATABASE_URL": url,
        "CONSENT_API_SITE_DIR": "",
        "CONSENT_API_PURGE_INTERVAL": "0",
        "CONSENT_API_OUTBOX_INTERVAL": "0",
        "CONSENT_API_CHECKPOINT_INTERVAL": "0",
    }
    service.migrate(url)
    rounds: list[dict[str, Any]] = []
    with make(f"{NAME}-{name}", env) as server:
        pids = server.wait_for_workers(WORKERS)
        idle = _rss_mib(pids)
        service.probe_consent(server.url, body)
        target_url = server.url + "/api/consent"
        service.wrk(target_url, 2.0, body=body)
        for number in range(pick(6, 2)):
            # ABBA: without, with, with, without, ... so that drift favours neither.
            for slow in (False, True) if number % 2 == 0 else (True, False):
                if slow:
                    with SlowClients(server.port, SLOW_CLIENTS) as clients:
                        run = service.wrk(target_url, ROUND_SECONDS, body=body)
                        run["slow_open"] = clients.open
                        run["slow_closed"] = clients.closed
                else:
                    run = service.wrk(target_url, ROUND_SECONDS, body=body)
                run["slow"] = slow
                rounds.append(run)
        after = _rss_mib(server.pids())
        command = command_line(server.argv, {"CONSENT_API_DATABASE_URL": url})

    def summary(slow: bool) -> dict[str, Any]:
        runs = [r for r in rounds if r["slow"] is slow]
        answered = [r for r in runs if r["requests"]]
        return {
            "rps": median([r["rps"] for r in runs]),
            # wrk's percentiles of a round with no answer are 0: no latency, not a fast one.
            "p99_ms": median([r["latency_us"]["p99"] / 1000 for r in answered]),
            "errors": sum(r["error_count"] for r in runs),
            "unanswered_rounds": len(runs) - len(answered),
        }

    return {
        "status": "ok",
        "label": label,
        "command": command,
        "wrk_command": rounds[0]["command"],
        "rounds": rounds,
        "plain": summary(False),
        "slow": {
            **summary(True),
            "open_min": min(r["slow_open"] for r in rounds if r["slow"]),
            "closed": sum(r["slow_closed"] for r in rounds if r["slow"]),
        },
        "rss_mib": {"idle": idle, "after": after},
    }


def run() -> Result:
    result = new_result(NAME, TITLE)
    service.require_wrk()
    result["setup"] = {
        "workers": WORKERS,
        "threads": THREADS,
        "connections": service.CONNECTIONS,
        "slow_clients": SLOW_CLIENTS,
        "round_seconds": ROUND_SECONDS,
    }
    body = service.consent_body()
    result["candidates"] = {name: _candidate(name, body) for name in CANDIDATES}
    for data in result["candidates"].values():
        if data["status"] == "ok":
            result["commands"] += [data["command"], data["wrk_command"]]
    adopted = result["candidates"][ADOPTED]
    plain, slow = adopted["plain"], adopted["slow"]
    ratio = slow["p99_ms"] / plain["p99_ms"]  # NaN, which passes no target, if none answered
    result["targets"] += [
        target(
            f"p99 with {SLOW_CLIENTS} slow clients held open",
            f"≤ {P99_RATIO_TARGET:g}x without",
            f"{ratio:.2f}x ({slow['p99_ms']:.1f} vs {plain['p99_ms']:.1f} ms)",
            ratio <= P99_RATIO_TARGET,
        ),
        target(
            f"errors with {SLOW_CLIENTS} slow clients held open",
            "0",
            f"{slow['errors']} (without: {plain['errors']})",
            slow["errors"] == plain["errors"] == slow["unanswered_rounds"] == 0,
        ),
    ]
    return result


def markdown(result: Result) -> list[str]:
    setup = result["setup"]
    lines = [
        f"Each server: {setup['workers']} workers x {setup['threads']} threads, the same app on "
        f"SQLite; wrk at {setup['connections']} connections on POST /api/consent, "
        f"{setup['round_seconds']:g} s rounds alternating without and with "
        f"{setup['slow_clients']} slow clients (headers, then one byte a second); medians of "
        "the rounds." + (" Quick run: 2 rounds each." if QUICK else ""),
        "",
        "| server | req/s | p99 ms | errors | with slow clients: req/s | p99 ms | errors | "
        "slow clients open (min) | RSS idle → after, MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for data in result["candidates"].values():
        if data["status"] != "ok":
            lines.append(f"| {data['label']} | {data['status']} | | | | | | | |")
            continue
        plain, slow, rss = data["plain"], data["slow"], data["rss_mib"]
        slow_p99 = "none answered" if slow["unanswered_rounds"] else f"{slow['p99_ms']:.1f}"
        lines.append(
            f"| {data['label']} | {plain['rps']:.0f} | {plain['p99_ms']:.1f} | "
            f"{plain['errors']} | {slow['rps']:.0f} | {slow_p99} | {slow['errors']} | "
            f"{slow['open_min']} of {setup['slow_clients']} | "
            f"{rss['idle']:.0f} → {rss['after']:.0f} |"
        )
    lines += [
        "",
        "wrk counts a request as a timeout error only after 5 s, longer than a round: "
        '"none answered" means that in at least one round with slow clients held open, not one '
        "of wrk's requests was answered.",
    ]
    return lines
