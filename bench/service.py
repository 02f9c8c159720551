"""What the service benchmarks share: the request body, wrk, the databases, availability."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, text

from consent_api.site import registry

from .common import BENCH_DIR, BIN, RESULTS, ROOT, Result, Unavailable, command_line, http

#: A PostgreSQL database to benchmark in; each benchmark works in a schema of its own.
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WRK_SCRIPT = BENCH_DIR / "consent.lua"
WRK_THREADS = 2
CONNECTIONS = 16


def consent_body() -> dict[str, Any]:
    """A valid first choice, as the banner posts it: every optional category rejected."""
    reg = registry.load(ROOT / "mkdocs.yml")
    return {
        "consent_id": None,
        "choices": {"necessary": True, **dict.fromkeys(reg.categories, False)},
        "action": "reject_all",
        "policy_version": reg.current_version().id,
        "banner_fingerprint": reg.banner_fingerprint,
        "gpc": False,
        "page": "/",
    }


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise Unavailable("wrk is not installed (as root: apt-get install wrk)")
    return path


def wrk(url: str, seconds: float, *, body: Mapping[str, Any]) -> dict[str, Any]:
    """One wrk run against ``url``: its summary, requests per second and the command."""
    env = {"BENCH_BODY": json.dumps(body, separators=(",", ":"))}
    argv = [
        require_wrk(),
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, math.ceil(seconds))}s",  # wrk takes whole seconds only
        "--timeout",
        "5s",
        "-s",
        str(WRK_SCRIPT),
        url,
    ]
    done = subprocess.run(
        argv, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    summary: dict[str, Any] = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    summary["error_count"] = sum(summary["errors"].values())
    summary["command"] = command_line(["wrk", *argv[1:]], {"BENCH_BODY": "<body>"})
    return summary


def postgres_url(schema: str) -> str:
    """``POSTGRES_URL`` with every connection's search path set to ``schema``."""
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"


def reset_postgres(schema: str) -> str:
    """An empty schema of our own in the benchmark database; its URL. Raises ``Unavailable``."""
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    except Exception as error:
        raise Unavailable(f"PostgreSQL at {POSTGRES_URL} cannot be used: {error}") from error
    return postgres_url(schema)


def drop_postgres(schema: str) -> None:
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def sqlite_url(name: str) -> str:
    """A fresh SQLite database file under ``bench/results/work/``."""
    path = RESULTS / "work" / f"{name}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def migrate(database_url: str) -> str:
    """Create the service's schema with its own command; the command line, for the report."""
    env = {"CONSENT_API_ENV": "development", "CONSENT_API_DATABASE_URL": database_url}
    argv: list[str | Path] = [BIN / "consent-api", "migrate"]
    done = subprocess.run(
        argv, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        if "No such command" in done.stderr:
            raise Unavailable(
                "`consent-api migrate` does not exist yet: the records service (POST "
                "/api/consent) is not on this branch"
            )
        raise RuntimeError(f"consent-api migrate failed: {done.stderr}")
    return command_line(argv, {"CONSENT_API_DATABASE_URL": database_url})


def probe_consent(base_url: str, body: Mapping[str, Any]) -> None:
    """One real POST; ``Unavailable`` if the endpoint is missing, an error if it fails."""
    status, answer = http("POST", base_url + "/api/consent", json.dumps(body).encode())
    if status in {404, 405}:
        raise Unavailable(
            f"POST /api/consent answers {status}: the records service is not on this branch yet"
        )
    if status != 201:
        raise RuntimeError(f"POST /api/consent answered {status}: {answer[:500]!r}")


def count_records(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT count(*) FROM records")) or 0)
    finally:
        engine.dispose()


def unavailable(result: Result, reason: str) -> Result:
    """Mark a result as not measurable yet, with the reason the report gives."""
    result["status"] = "not available"
    result["reason"] = reason
    return result
