"""What every benchmark shares: paths, the machine description, servers, HTTP, statistics.

Servers are the tests' own helper (``tests/liveserver.py``): one way to start and stop them.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil

from tests.liveserver import ServerProcess as Server
from tests.liveserver import free_port

__all__ = ["Server", "free_port"]

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS = BENCH_DIR / "results"
#: The virtualenv's bin/ folder (mkdocs, consent-api, granian), whatever ran this module.
BIN = Path(sys.executable).parent
#: BENCH_QUICK=1: much smaller counts, for developing the benchmarks themselves.
QUICK = os.environ.get("BENCH_QUICK", "") not in {"", "0"}
#: The server's settings for both sides of every service comparison (the deployment's 2 workers).
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
#: Where the service's rate limit is shared between its workers.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
THREADS = int(os.environ.get("BENCH_THREADS", "4"))

Result = dict[str, Any]


class Unavailable(Exception):
    """What a benchmark measures does not exist on this branch yet; the report says so."""


def pick(full: int, quick: int) -> int:
    """``full`` normally, ``quick`` under ``BENCH_QUICK=1``."""
    return quick if QUICK else full


def machine() -> dict[str, Any]:
    """Where the figures came from: cores, CPU model, memory, load, software, commit."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": memory_gib,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "commit": commit,
    }


def describe_machine(info: Mapping[str, Any]) -> str:
    """One line: ``2 cores, AMD EPYC, 23.4 GiB``."""
    return f"{info['cores']} cores, {info['cpu']}, {info['memory_gib']} GiB"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def command_line(argv: Sequence[str | Path], env: Mapping[str, str] | None = None) -> str:
    """A command as a reader would type it from the checkout: relative paths, env first."""
    prefix = [f"{name}={shlex.quote(value)}" for name, value in (env or {}).items()]
    text = " ".join([*prefix, shlex.join(str(arg) for arg in argv)])
    return text.replace(f"{ROOT}/", "")


def http(
    method: str, url: str, body: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, bytes]:
    """Status and body of one request; an HTTP error status is an answer, not an exception."""
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def rss_kib(pid: int) -> int:
    """Resident set size of one process, in KiB (0 if it is gone)."""
    with contextlib.suppress(psutil.Error):
        return int(psutil.Process(pid).memory_info().rss // 1024)
    return 0


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time (user + system) the processes have used so far, in seconds (0 for gone ones)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def server_log(name: str) -> Path:
    return RESULTS / "logs" / f"{name}.log"


def service_server(name: str, env: Mapping[str, str], port: int | None = None) -> Server:
    """``consent-api serve`` with the benchmark's worker and thread counts."""
    port = port or free_port()
    argv: list[str | Path] = [
        BIN / "consent-api",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
    ]
    # Several workers need a shared rate-limit store (serve refuses to count it apart in each):
    # the machine's Redis (BENCH_REDIS_URL), as a deployment with several workers has it.
    shared = {"CONSENT_API_RATELIMIT_STORAGE_URI": REDIS_URL} if WORKERS > 1 else {}
    env = {"CONSENT_API_ENV": "development", **shared, **env}
    return Server(argv, env=env, ready_path="/api/health", port=port, log=server_log(name))


def bare_server(name: str, port: int | None = None, *, module: str = "bench.bare_app") -> Server:
    """The bare Flask app of ``bench/bare_app.py`` (or another of ``bench/``'s reference apps)
    under the same server and settings."""
    port = port or free_port()
    argv: list[str | Path] = [
        BIN / "python",
        "-m",
        module,
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
    ]
    return Server(argv, env={}, ready_path="/health", port=port, log=server_log(name))


def save(name: str, result: Result) -> Path:
    """Write a benchmark's raw result to ``bench/results/<name>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as elapsed:`` leaves the seconds taken in ``elapsed[0]``."""
    elapsed: list[float] = []
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.append(time.perf_counter() - started)


def target(name: str, goal: str, measured: str, passed: bool | None) -> dict[str, Any]:
    """One target of the issue: what it asks, what was measured, and whether it is met."""
    return {"name": name, "goal": goal, "measured": measured, "passed": passed}


def new_result(name: str, title: str) -> Result:
    return {
        "name": name,
        "title": title,
        "status": "ok",
        "reason": "",
        "quick": QUICK,
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "commands": [],
        "targets": [],
    }
