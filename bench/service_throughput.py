"""Throughput and latency of ``POST /api/consent`` against a bare Flask route, on both backends,
and on SQLite against the naive durable implementation of ``bench/naive_app.py``.

The servers run at once under the same server settings; wrk loads one at a time, in short
rounds that alternate which goes first (ABBA), and each round gives one ratio: many short rounds
leave a burst of load from elsewhere on the machine less room to favour one side. The report
gives the median ratio, the service's p99 latency at 16 connections, and every error wrk saw.
"""

from __future__ import annotations

import contextlib
from typing import Any

from . import service
from .common import (
    QUICK,
    THREADS,
    WORKERS,
    Result,
    Server,
    Unavailable,
    bare_server,
    command_line,
    cpu_seconds,
    median,
    new_result,
    pick,
    service_server,
    target,
)

NAME = "service_throughput"
TITLE = "Service throughput and latency: POST /api/consent vs a bare Flask route"
RATIO_TARGET = {"sqlite": 0.4, "postgresql": 0.3}
NAIVE_TARGET = 2.0
P99_TARGET_MS = 25.0
ROUND_SECONDS = 3.0
WARMUP_SECONDS = 2.0 if QUICK else 3.0


def _naive_server(name: str) -> Server:
    """``bench/naive_app.py`` under the same server and settings, on a fresh SQLite file."""
    server = bare_server(name, module="bench.naive_app")
    server.env["BENCH_NAIVE_DATABASE"] = service.sqlite_url(name).removeprefix("sqlite:///")
    return server


def _backend(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    schema = "bench_throughput"
    url = service.reset_postgres(schema) if kind == "postgresql" else service.sqlite_url(NAME)
    data: dict[str, Any] = {"status": "ok", "commands": [service.migrate(url)]}
    env = {"CONSENT_API_DATABASE_URL": url}
    sides = ["bare", "service", "naive"] if kind == "sqlite" else ["bare", "service"]
    try:
        with contextlib.ExitStack() as stack:
            bare = stack.enter_context(bare_server(f"{NAME}-bare"))
            app = stack.enter_context(service_server(f"{NAME}-{kind}", env))
            servers = {"bare": bare, "service": app}
            if "naive" in sides:
                servers["naive"] = stack.enter_context(_naive_server(f"{NAME}-naive"))
            data["commands"] += [command_line(s.argv, s.env) for s in servers.values()]
            service.probe_consent(app.url, body)
            before = service.count_records(url)
            targets = {side: servers[side].url + "/api/consent" for side in sides}
            warmup = {side: service.wrk(targets[side], WARMUP_SECONDS, body=body) for side in sides}
            rounds = []
            for number in range(pick(10, 2)):
                # Rounds rotate which side goes first, and reverse every other round (ABBA).
                order = sides[number % len(sides) :] + sides[: number % len(sides)]
                order = order if number % 2 == 0 else order[::-1]
                runs: dict[str, Any] = {}
                for side in order:
                    pids = servers[side].pids()
                    used = cpu_seconds(pids)
                    runs[side] = service.wrk(targets[side], ROUND_SECONDS, body=body)
                    used = cpu_seconds(pids) - used
                    runs[side]["cpu_us_per_request"] = used / max(runs[side]["requests"], 1) * 1e6
                runs["ratio"] = runs["service"]["rps"] / runs["bare"]["rps"]
                if "naive" in runs:
                    runs["vs_naive"] = runs["service"]["rps"] / runs["naive"]["rps"]
                rounds.append(runs)
            stored = service.count_records(url) - before
    finally:
        if kind == "postgresql":
            service.drop_postgres(schema)
    answers = [warmup["service"], *(r["service"] for r in rounds)]
    answered = sum(run["requests"] - run["errors"]["status"] for run in answers)
    data.update(
        rounds=rounds,
        wrk_command=rounds[0]["service"]["command"],
        ratio=median([r["ratio"] for r in rounds]),
        service_rps=median([r["service"]["rps"] for r in rounds]),
        bare_rps=median([r["bare"]["rps"] for r in rounds]),
        p99_ms=median([r["service"]["latency_us"]["p99"] / 1000 for r in rounds]),
        cpu_us={side: median([r[side]["cpu_us_per_request"] for r in rounds]) for side in sides},
        p99_worst_ms=max(r["service"]["latency_us"]["p99"] / 1000 for r in rounds),
        errors=sum(r[side]["error_count"] for r in rounds for side in ("service", "bare")),
        # Rows written during the measured rounds and the warm-up; wrk counts only the answers
        # that arrived before it stopped, so every 201 is stored when rows >= answers.
        rows_stored=stored,
        answers_2xx=answered,
    )
    if "naive" in sides:
        data["vs_naive"] = median([r["vs_naive"] for r in rounds])
        data["naive_rps"] = median([r["naive"]["rps"] for r in rounds])
        data["naive_p99_ms"] = median([r["naive"]["latency_us"]["p99"] / 1000 for r in rounds])
    return data


def run() -> Result:
    result = new_result(NAME, TITLE)
    result["setup"] = {
        "workers": WORKERS,
        "threads": THREADS,
        "connections": service.CONNECTIONS,
        "round_seconds": ROUND_SECONDS,
    }
    service.require_wrk()
    body = service.consent_body()
    result["body"] = body
    result["backends"] = {}
    for kind in ("sqlite", "postgresql"):
        try:
            result["backends"][kind] = _backend(kind, body)
        except Unavailable as reason:
            result["backends"][kind] = {"status": "not available", "reason": str(reason)}
    states = [b["status"] for b in result["backends"].values()]
    if all(state == "not available" for state in states):
        reasons = {b["reason"] for b in result["backends"].values()}
        raise Unavailable("; ".join(sorted(reasons)))
    for kind, data in result["backends"].items():
        if data["status"] != "ok":
            goal = f"≥ {RATIO_TARGET[kind]} of bare"
            result["targets"].append(target(f"{kind}: throughput", goal, data["reason"], None))
            continue
        result["commands"].extend(data["commands"] + [data["wrk_command"]])
        result["targets"] += [
            target(
                f"{kind}: throughput vs bare Flask",
                f"≥ {RATIO_TARGET[kind]}",
                f"{data['ratio']:.2f} ({data['service_rps']:.0f} vs {data['bare_rps']:.0f} req/s)",
                data["ratio"] >= RATIO_TARGET[kind],
            ),
            target(
                f"{kind}: p99 latency at {service.CONNECTIONS} connections",
                f"< {P99_TARGET_MS:g} ms",
                f"{data['p99_ms']:.1f} ms (worst round {data['p99_worst_ms']:.1f} ms)",
                data["p99_ms"] < P99_TARGET_MS,
            ),
            target(f"{kind}: errors", "0", str(data["errors"]), data["errors"] == 0),
            *(
                [
                    target(
                        f"{kind}: throughput vs the naive implementation",
                        f"≥ {NAIVE_TARGET:g} times",
                        f"{data['vs_naive']:.2f} times ({data['naive_rps']:.0f} req/s naive, "
                        f"p99 {data['naive_p99_ms']:.1f} ms)",
                        data["vs_naive"] >= NAIVE_TARGET,
                    )
                ]
                if "vs_naive" in data
                else []
            ),
            target(
                f"{kind}: every 201 stored",
                "rows ≥ 201s",
                f"{data['rows_stored']} rows, {data['answers_2xx']} answers",
                data["rows_stored"] >= data["answers_2xx"],
            ),
        ]
    return result


def markdown(result: Result) -> list[str]:
    setup = result["setup"]
    lines = [
        f"waitress, {setup['workers']} workers x {setup['threads']} threads for every side; "
        f"wrk with {service.WRK_THREADS} threads and {setup['connections']} connections, "
        f"{setup['round_seconds']:g} s per run, rounds rotate which side goes first. Naive: "
        "`bench/naive_app.py` (JSON, itsdangerous, one SQLite commit per request), SQLite only.",
        "",
        "| backend | round | bare req/s | naive req/s | service req/s | ratio to bare | "
        "times naive | service p50 / p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, data in result["backends"].items():
        if data["status"] != "ok":
            lines.append(f"| {kind} | — | — | — | — | — | — | {data['reason']} | — |")
            continue
        for number, r in enumerate(data["rounds"], 1):
            lat = r["service"]["latency_us"]
            errors = r["service"]["error_count"] + r["bare"]["error_count"]
            naive = f"{r['naive']['rps']:.0f}" if "naive" in r else "—"
            times = f"{r['vs_naive']:.2f}" if "vs_naive" in r else "—"
            lines.append(
                f"| {kind} | {number} | {r['bare']['rps']:.0f} | {naive} | "
                f"{r['service']['rps']:.0f} | {r['ratio']:.2f} | {times} | "
                f"{lat['p50'] / 1000:.1f} / {lat['p99'] / 1000:.1f} | {errors} |"
            )
        naive = f"{data['naive_rps']:.0f}" if "naive_rps" in data else "—"
        times = f"**{data['vs_naive']:.2f}**" if "vs_naive" in data else "—"
        lines.append(
            f"| **{kind}** | **median** | {data['bare_rps']:.0f} | {naive} | "
            f"{data['service_rps']:.0f} | **{data['ratio']:.2f}** | {times} | "
            f"p99 {data['p99_ms']:.1f} | {data['errors']} |"
        )
    lines += ["", "Where the time goes: CPU (user + system) of the server processes per request,"]
    lines.append("median of the rounds (PostgreSQL's own processes are not counted).")
    lines += ["", "| backend | bare µs/request | naive µs/request | service µs/request |"]
    lines.append("| --- | ---: | ---: | ---: |")
    for kind, data in result["backends"].items():
        if data["status"] == "ok" and "cpu_us" in data:
            cpu = data["cpu_us"]
            naive = f"{cpu['naive']:.0f}" if "naive" in cpu else "—"
            lines.append(f"| {kind} | {cpu['bare']:.0f} | {naive} | {cpu['service']:.0f} |")
    lines += [
        "",
        "At 16 connections every side keeps the machine's cores busy (wrk runs on them too), so "
        "requests per second go roughly as the inverse of CPU per request: "
        f"{RATIO_TARGET['sqlite']} of the bare route needs the service within about "
        f"{1 / RATIO_TARGET['sqlite']:.1f} times the bare route's CPU per request.",
    ]
    return lines
