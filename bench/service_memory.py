"""Resident memory of the service before and after 100,000 recorded choices (SQLite).

The RSS of the server's supervisor and each worker is sampled every second while wrk posts choices;
"start" is after a 5-second warm-up (imports and caches that the first requests fill), "end" after
the last choice. Memory is flat when the end is within 10% of the start.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from . import service
from .common import (
    THREADS,
    WORKERS,
    Result,
    command_line,
    new_result,
    pick,
    rss_kib,
    service_server,
    target,
)

NAME = "service_memory"
TITLE = "Service memory: resident size over 100,000 recorded choices"
CHOICES = pick(100_000, 5_000)
WARMUP_SECONDS = 5.0
SLICE_SECONDS = 15.0
GROWTH_LIMIT = 0.10


def _snapshot(pids: list[int]) -> dict[str, int]:
    return {str(pid): rss_kib(pid) for pid in pids}


def run() -> Result:
    result = new_result(NAME, TITLE)
    result["setup"] = {"workers": WORKERS, "threads": THREADS, "choices": CHOICES}
    body = service.consent_body()
    url = service.sqlite_url(NAME)
    result["commands"].append(service.migrate(url))
    samples: list[dict[str, Any]] = []
    env = {"CONSENT_API_DATABASE_URL": url}
    with service_server(NAME, env) as app:
        result["commands"].append(command_line(app.argv, env))
        pids = app.wait_for_workers(WORKERS)
        idle = _snapshot(pids)
        service.probe_consent(app.url, body)
        target_url = app.url + "/api/consent"
        service.wrk(target_url, WARMUP_SECONDS, body=body)
        start = _snapshot(pids)
        rows_start = service.count_records(url)
        stop = threading.Event()
        began = time.monotonic()

        def sample() -> None:
            while not stop.wait(1.0):
                samples.append({"t": round(time.monotonic() - began, 1), **_snapshot(pids)})

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        runs: list[dict[str, Any]] = []
        try:
            # wrk runs for a duration, not a count: load in slices until enough are recorded,
            # sizing the last slice from the rate so far.
            recorded = 0
            while recorded < CHOICES:
                rate = sum(r["requests"] for r in runs) / max(time.monotonic() - began, 1.0)
                left = (CHOICES - recorded) / rate if runs else SLICE_SECONDS
                runs.append(service.wrk(target_url, min(SLICE_SECONDS, left + 0.5), body=body))
                recorded = service.count_records(url) - rows_start
        finally:
            stop.set()
            sampler.join()
        end = _snapshot(pids)
        rows_end = service.count_records(url)
    load = {
        "rps": sum(r["requests"] for r in runs) / sum(r["duration_us"] / 1e6 for r in runs),
        "slices": len(runs),
        "error_count": sum(r["error_count"] for r in runs),
        "command": runs[0]["command"],
    }
    result["commands"].append(f"{load['command']} (repeated until {CHOICES:,} are recorded)")
    total = {name: sum(snap.values()) for name, snap in (("idle", idle), ("start", start))}
    total["end"] = sum(end.values())
    growth = (total["end"] - total["start"]) / total["start"]
    result.update(
        pids={"master": pids[0], "workers": pids[1:]},
        rss_kib={"idle": idle, "start": start, "end": end, "total": total},
        samples=samples,
        recorded=rows_end - rows_start,
        load=load,
        growth=growth,
    )
    result["targets"] = [
        target(
            "RSS flat over the choices",
            f"end ≤ start + {GROWTH_LIMIT:.0%}",
            f"{total['start'] / 1024:.1f} → {total['end'] / 1024:.1f} MiB ({growth:+.1%}) "
            f"over {rows_end - rows_start:,} choices",
            growth <= GROWTH_LIMIT,
        ),
        target("errors while recording", "0", str(load["error_count"]), load["error_count"] == 0),
    ]
    return result


def markdown(result: Result) -> list[str]:
    rss = result["rss_kib"]
    master = str(result["pids"]["master"])
    lines = [
        f"{result['recorded']:,} choices recorded by `consent-api serve` "
        f"({result['setup']['workers']} workers x {result['setup']['threads']} threads, SQLite) "
        f"at {result['load']['rps']:.0f} req/s; RSS in MiB:",
        "",
        "| process | idle (before any request) | start (after warm-up) | end |",
        "| --- | ---: | ---: | ---: |",
    ]
    for pid in rss["end"]:
        role = "supervisor" if pid == master else f"worker {pid}"
        lines.append(
            f"| {role} | {rss['idle'].get(pid, 0) / 1024:.1f} | "
            f"{rss['start'].get(pid, 0) / 1024:.1f} | {rss['end'][pid] / 1024:.1f} |"
        )
    total = rss["total"]
    lines.append(
        f"| **total** | {total['idle'] / 1024:.1f} | {total['start'] / 1024:.1f} | "
        f"{total['end'] / 1024:.1f} |"
    )
    samples = result["samples"]
    if samples:
        picks = [samples[round(i * (len(samples) - 1) / 4)] for i in range(5)]
        trend = ", ".join(
            f"{s['t']:.0f} s: {sum(v for k, v in s.items() if k != 't') / 1024:.1f}" for s in picks
        )
        lines += ["", f"Total RSS during the run (MiB): {trend}."]
    return lines
