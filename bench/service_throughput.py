"""Throughput and latency of ``POST /api/consent`` against a bare Flask route, on both backends.

Both servers run at once under the same server settings; wrk loads one at a time, in short
rounds that alternate which goes first (ABBA), and each round gives one ratio: many short rounds
leave a burst of load from elsewhere on the machine less room to favour one side. The report
gives the median ratio, the service's p99 latency at 16 connections, and every error wrk saw.
"""

from __future__ import annotations

from typing import Any

from . import service
from .common import (
    QUICK,
    THREADS,
    WORKERS,
    Result,
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
RATIO_TARGET = 0.6
P99_TARGET_MS = 25.0
ROUND_SECONDS = 3.0
WARMUP_SECONDS = 2.0 if QUICK else 3.0


def _backend(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    schema = "bench_throughput"
    url = service.reset_postgres(schema) if kind == "postgresql" else service.sqlite_url(NAME)
    data: dict[str, Any] = {"status": "ok", "commands": [service.migrate(url)]}
    env = {"CONSENT_API_DATABASE_URL": url}
    try:
        with bare_server(f"{NAME}-bare") as bare, service_server(f"{NAME}-{kind}", env) as app:
            data["commands"].append(command_line(bare.argv))
            data["commands"].append(command_line(app.argv, env))
            service.probe_consent(app.url, body)
            before = service.count_records(url)
            targets = {"bare": bare.url + "/api/consent", "service": app.url + "/api/consent"}
            warmup = [service.wrk(url_, WARMUP_SECONDS, body=body) for url_ in targets.values()]
            rounds = []
            servers = {"bare": bare, "service": app}
            for number in range(pick(10, 2)):
                order = ["bare", "service"] if number % 2 == 0 else ["service", "bare"]
                runs: dict[str, Any] = {}
                for side in order:
                    pids = servers[side].pids()
                    used = cpu_seconds(pids)
                    runs[side] = service.wrk(targets[side], ROUND_SECONDS, body=body)
                    used = cpu_seconds(pids) - used
                    runs[side]["cpu_us_per_request"] = used / max(runs[side]["requests"], 1) * 1e6
                runs["ratio"] = runs["service"]["rps"] / runs["bare"]["rps"]
                rounds.append(runs)
            stored = service.count_records(url) - before
    finally:
        if kind == "postgresql":
            service.drop_postgres(schema)
    answers = [warmup[1], *(r["service"] for r in rounds)]
    answered = sum(run["requests"] - run["errors"]["status"] for run in answers)
    data.update(
        rounds=rounds,
        wrk_command=rounds[0]["service"]["command"],
        ratio=median([r["ratio"] for r in rounds]),
        service_rps=median([r["service"]["rps"] for r in rounds]),
        bare_rps=median([r["bare"]["rps"] for r in rounds]),
        p99_ms=median([r["service"]["latency_us"]["p99"] / 1000 for r in rounds]),
        cpu_us={
            side: median([r[side]["cpu_us_per_request"] for r in rounds])
            for side in ("bare", "service")
        },
        p99_worst_ms=max(r["service"]["latency_us"]["p99"] / 1000 for r in rounds),
        errors=sum(r[side]["error_count"] for r in rounds for side in ("service", "bare")),
        # Rows written during the measured rounds and the warm-up; wrk counts only the answers
        # that arrived before it stopped, so every 201 is stored when rows >= answers.
        rows_stored=stored,
        answers_2xx=answered,
    )
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
            result["targets"].append(
                target(f"{kind}: throughput", f"≥ {RATIO_TARGET} of bare", data["reason"], None)
            )
            continue
        result["commands"].extend(data["commands"] + [data["wrk_command"]])
        result["targets"] += [
            target(
                f"{kind}: throughput vs bare Flask",
                f"≥ {RATIO_TARGET}",
                f"{data['ratio']:.2f} ({data['service_rps']:.0f} vs {data['bare_rps']:.0f} req/s)",
                data["ratio"] >= RATIO_TARGET,
            ),
            target(
                f"{kind}: p99 latency at {service.CONNECTIONS} connections",
                f"< {P99_TARGET_MS:g} ms",
                f"{data['p99_ms']:.1f} ms (worst round {data['p99_worst_ms']:.1f} ms)",
                data["p99_ms"] < P99_TARGET_MS,
            ),
            target(f"{kind}: errors", "0", str(data["errors"]), data["errors"] == 0),
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
        f"waitress, {setup['workers']} workers x {setup['threads']} threads for both; "
        f"wrk with {service.WRK_THREADS} threads and {setup['connections']} connections, "
        f"{setup['round_seconds']:g} s per run, rounds alternate which side goes first.",
        "",
        "| backend | round | bare req/s | service req/s | ratio | service p50 / p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, data in result["backends"].items():
        if data["status"] != "ok":
            lines.append(f"| {kind} | — | — | — | — | {data['reason']} | — |")
            continue
        for number, r in enumerate(data["rounds"], 1):
            lat = r["service"]["latency_us"]
            errors = r["service"]["error_count"] + r["bare"]["error_count"]
            lines.append(
                f"| {kind} | {number} | {r['bare']['rps']:.0f} | {r['service']['rps']:.0f} | "
                f"{r['ratio']:.2f} | {lat['p50'] / 1000:.1f} / {lat['p99'] / 1000:.1f} | "
                f"{errors} |"
            )
        lines.append(
            f"| **{kind}** | **median** | {data['bare_rps']:.0f} | {data['service_rps']:.0f} | "
            f"**{data['ratio']:.2f}** | p99 {data['p99_ms']:.1f} | {data['errors']} |"
        )
    lines += ["", "Where the time goes: CPU (user + system) of the server processes per request,"]
    lines.append("median of the rounds (PostgreSQL's own processes are not counted).")
    lines += ["", "| backend | bare µs/request | service µs/request | service / bare (times) |"]
    lines.append("| --- | ---: | ---: | ---: |")
    for kind, data in result["backends"].items():
        if data["status"] == "ok" and "cpu_us" in data:
            cpu = data["cpu_us"]
            lines.append(
                f"| {kind} | {cpu['bare']:.0f} | {cpu['service']:.0f} | "
                f"{cpu['service'] / cpu['bare']:.1f} |"
            )
    lines += [
        "",
        "At 16 connections both sides keep the machine's cores busy (wrk runs on them too), so "
        "requests per second go roughly as the inverse of CPU per request: "
        f"{RATIO_TARGET} of the bare route needs the service within about "
        f"{1 / RATIO_TARGET:.1f} times the bare route's CPU per request.",
    ]
    return lines
