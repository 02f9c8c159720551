"""A real server in a child process, for the tests and the benchmarks (``bench/common.py``).

Plain Python with no pytest in it, so that ``bench/`` imports it as ``tests.liveserver``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
#: The checkout: servers run in it, as ``make run`` does (``python -m bench.bare_app`` too).
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A server started by ``argv`` in a session of its own (so that ``kill`` reaches its
    workers too), ready once ``ready_path`` answers 200; its output goes to ``log``."""

    def __init__(
        self,
        argv: Sequence[str | Path],
        *,
        env: Mapping[str, str],
        port: int,
        ready_path: str = "/api/health",
        log: Path | None = None,
    ) -> None:
        self.argv = [str(arg) for arg in argv]
        self.env = {**os.environ, **env}
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ready_path = ready_path
        # A file, not a pipe: a long-running server's output never fills a pipe nobody reads.
        self.log = log or Path(tempfile.mkstemp(prefix="server-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until it answers."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the server without waiting: several then start side by side (``wait_ready``)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the launched server answers ``ready_path``."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited at start:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.argv[0]} did not answer in {timeout:.0f} s:\n{self.output()}")

    def terminate(self) -> None:
        """Ask the server to stop gracefully, without waiting: several then stop side by side
        (``stop`` waits and returns the output)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def output(self) -> str:
        """Everything the server has written so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def pids(self) -> list[int]:
        """The server process and every process it started (its workers)."""
        if self.process is None or self.process.poll() is not None:
            return []
        try:
            root = psutil.Process(self.process.pid)
            return [root.pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def wait_for_workers(self, count: int, timeout: float = 30) -> list[int]:
        """The server process and its ``count`` workers, once all of them are running."""
        deadline = time.monotonic() + timeout
        while len(self.pids()) < count + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.pids()

    def kill(self) -> None:
        """SIGKILL the server and its workers at once, as a power cut would."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self, timeout: float = 15.0) -> str:
        """SIGTERM, as systemd and Ctrl+C stop it; its whole output once it has exited."""
        if self.process is not None:
            self.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None
        return self.output()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class LiveServer(ServerProcess):
    """``consent-api serve`` in a child process, started the way ``make run`` starts it."""

    def __init__(
        self,
        env: Mapping[str, str],
        port: int | None = None,
        *,
        options: Sequence[str] = (),
        log: Path | None = None,
    ) -> None:
        port = port or free_port()
        argv: list[str | Path] = [BIN / "consent-api", "serve", "--port", str(port), *options]
        super().__init__(argv, env={"CONSENT_API_ENV": "development", **env}, port=port, log=log)
