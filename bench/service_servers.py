"""The embedded server against slow clients, and the candidates it was chosen from.

Each candidate serves the same app (``create_app``, SQLite, background jobs off) with the same
workers and threads: ``consent-api serve`` (waitress), gunicorn's threaded worker (what served
before) and granian. Each gets rounds of wrk on ``POST /api/consent``, alternately without and
with 64 slow clients held open (``bench/slow_clients.py``), then its resident memory is read.
The targets are the embedded server's: with the slow clients, a p99 within 2x of the rounds
without, and no errors.
"""

from __future__ import annotations

import contextlib
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


def _env(name: str) -> dict[str, str]:
    url = service.sqlite_url(f"{NAME}-{name}")
    service.migrate(url)
    return {
        "CONSENT_API_ENV": "development",
        "CONSENT_API_DATABASE_URL": url,
        "CONSENT_API_SITE_DIR": "",
        "CONSENT_API_PURGE_INTERVAL": "0",
        "CONSENT_API_OUTBOX_INTERVAL": "0",
        "CONSENT_API_CHECKPOINT_INTERVAL": "0",
    }


def _round(server: Server, slow: bool, body: dict[str, Any]) -> dict[str, Any]:
    target_url = server.url + "/api/consent"
    if not slow:
        return {**service.wrk(target_url, ROUND_SECONDS, body=body), "slow": False}
    with SlowClients(server.port, SLOW_CLIENTS) as clients:
        run = service.wrk(target_url, ROUND_SECONDS, body=body)
        return {**run, "slow": True, "slow_open": clients.open, "slow_closed": clients.closed}


def _summary(rounds: list[dict[str, Any]], slow: bool) -> dict[str, Any]:
    runs = [r for r in rounds if r["slow"] is slow]
    answered = [r for r in runs if r["requests"]]
    summary = {
        "rps": median([r["rps"] for r in runs]),
        # wrk's percentiles of a round with no answer are 0: no latency, not a fast one.
        "p99_ms": median([r["latency_us"]["p99"] / 1000 for r in answered]),
        "errors": sum(r["error_count"] for r in runs),
        "unanswered_rounds": len(runs) - len(answered),
    }
    if slow:
        summary["open_min"] = min(r["slow_open"] for r in runs)
        summary["closed"] = sum(r["slow_closed"] for r in runs)
    return summary


def _measure(names: list[str], body: dict[str, Any]) -> dict[str, Any]:
    """All candidates run at once; each round loads one at a time, in an order that rotates,
    so that load from elsewhere on the machine favours none of them."""
    found: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        servers = {}
        for name in names:
            env = _env(name)
            server = stack.enter_context(CANDIDATES[name][1](f"{NAME}-{name}", env))
            servers[name] = server
            pids = server.wait_for_workers(WORKERS)
            service.probe_consent(server.url, body)
            found[name] = {
                "status": "ok",
                "label": CANDIDATES[name][0],
                "command": command_line(server.argv, {"CONSENT_API_DATABASE_URL": "<sqlite>"}),
                "rss_mib": {"idle": _rss_mib(pids)},
                "rounds": [],
            }
        for name, server in servers.items():  # warm-up
            warm = service.wrk(server.url + "/api/consent", 2.0, body=body)
            found[name]["wrk_command"] = warm["command"]
        for number in range(pick(6, 2)):
            order = names[number % len(names) :] + names[: number % len(names)]
            for name in order:
                # Without, then with slow clients; the next round the other way round.
                for slow in (False, True) if number % 2 == 0 else (True, False):
                    found[name]["rounds"].append(_round(servers[name], slow, body))
        for name, server in servers.items():
            found[name]["rss_mib"]["after"] = _rss_mib(server.pids())
    for data in found.values():
        data["plain"] = _summary(data["rounds"], slow=False)
        data["slow"] = _summary(data["rounds"], slow=True)
    return found


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
    # The adopted server is a dependency; the others are in the `bench` extra, and may be gone.
    names = [name for name in CANDIDATES if name == ADOPTED or (BIN / name).exists()]
    measured = _measure(names, body)
    result["candidates"] = {
        name: measured.get(name, {"status": "not installed", "label": CANDIDATES[name][0]})
        for name in CANDIDATES
    }
    for data in measured.values():
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
        f"{setup['slow_clients']} slow clients (headers, then one byte a second); all servers "
        "run at once and each round loads one at a time, in a rotating order; medians of the "
        "rounds." + (" Quick run: 2 rounds each." if QUICK else ""),
        "",
        "| server | req/s | vs adopted | p99 ms | errors | with slow clients: req/s | p99 ms | "
        "errors | slow clients open (min) | RSS idle → after, MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    adopted_rps = result["candidates"][ADOPTED]["plain"]["rps"]
    for data in result["candidates"].values():
        if data["status"] != "ok":
            lines.append(f"| {data['label']} | {data['status']} | | | | | | | | |")
            continue
        plain, slow, rss = data["plain"], data["slow"], data["rss_mib"]
        slow_p99 = "none answered" if slow["unanswered_rounds"] else f"{slow['p99_ms']:.1f}"
        lines.append(
            f"| {data['label']} | {plain['rps']:.0f} | {plain['rps'] / adopted_rps:.2f} | "
            f"{plain['p99_ms']:.1f} | "
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
