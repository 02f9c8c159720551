"""Serves the app from the ``serve`` command: a supervisor process and the workers it forks.

The supervisor binds the socket, forks ``workers`` processes and replaces any that dies. On
SIGTERM or SIGINT it asks each worker to stop gracefully, and kills what is left after
``GRACE`` seconds more. Each worker drops what it inherited (``storage.after_fork``), starts the
background jobs and serves with waitress (``consent_api.web.server``); the kernel hands each new
connection to one of the workers waiting on the shared socket.

Why not a library: waitress, chosen for slow clients (see the README's Performance section),
has no process manager, and gunicorn's arbiter cannot run any worker but its own. What is left
to write is this module: fork, signals, reaping.

Nothing is shared between two servers on one machine but the port each binds: no control
socket, no lock file, no PID file.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

from flask import Flask

from consent_api import background
from consent_api.exc import ConfigError
from consent_api.records import storage
from consent_api.web import server as http_server

#: Seconds a stopping worker has to finish the requests under way; then as long again to exit.
GRACE = 5.0
#: Connections the kernel queues while every worker is busy.
BACKLOG = 1024
#: Seconds before a worker that died is replaced: a worker that cannot start does not spin.
RESPAWN_DELAY = 1.0
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
SUPERVISED = {*STOP_SIGNALS, signal.SIGCHLD}

logger = logging.getLogger("consent_api.serve")


def run(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    """Serve ``app`` on ``host:port`` until SIGTERM or SIGINT, with the background jobs
    running in each worker."""

    def start_worker() -> None:
        storage.after_fork(app)
        background.start(app)

    serve_wsgi(app, host, port, workers, threads, start_worker)


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; ``ConfigError`` if it is taken."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


def serve_wsgi(
    app: Flask,
    host: str,
    port: int,
    workers: int,
    threads: int,
    on_fork: Callable[[], None],
) -> None:
    """Serve ``app`` from ``workers`` processes of ``threads`` threads; ``on_fork`` runs in
    each worker before it serves."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"
        )
    # waitress warns on every request that waits for a thread: under load, a line per request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    listener = listen(host, port)
    # Blocked before the first fork, so that a stop signal is never lost between two steps:
    # the supervisor takes them with sigtimedwait, each worker unblocks them once it handles them.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SUPERVISED)
    children: set[int] = set()
    try:
        for _ in range(workers):
            children.add(_fork(app, listener, threads, on_fork, previous))
        logger.info(
            "Listening at http://%s:%d/ (waitress, %d workers x %d threads)",
            host,
            port,
            workers,
            threads,
        )
        while True:
            received = signal.sigtimedwait(SUPERVISED, 1.0)
            if received is not None and received.si_signo in STOP_SIGNALS:
                logger.info("Stopping (%s)", signal.Signals(received.si_signo).name)
                break
            for pid in _reap(children):
                logger.warning("worker %d exited; starting another", pid)
                time.sleep(RESPAWN_DELAY)
                children.add(_fork(app, listener, threads, on_fork, previous))
    finally:
        _stop(children)
        listener.close()
        # A second stop signal during the stop has been answered by this stop: drop it, or
        # unblocking would let it kill the process before it says it has stopped.
        while signal.sigtimedwait(SUPERVISED, 0) is not None:
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    logger.info("Stopped")


def _fork(
    app: Flask,
    listener: socket.socket,
    threads: int,
    on_fork: Callable[[], None],
    mask: set[int | signal.Signals],
) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        stop = threading.Event()
        for number in STOP_SIGNALS:
            signal.signal(number, lambda *_: stop.set())
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        on_fork()
        http_server.serve(http_server.create(app, listener, threads), stop, GRACE)
    except BaseException:
        logger.exception("worker failed")
        code = 1
    finally:
        logging.shutdown()
        # Never back into the supervisor's code (its finally, click's exit): leave here.
        os._exit(code)


def _reap(children: set[int]) -> list[int]:
    """Collect the workers that have exited; their process IDs."""
    gone = []
    for pid in list(children):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            children.discard(pid)
            gone.append(pid)
    return gone


def _stop(children: set[int]) -> None:
    for pid in children:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 2 * GRACE
    while children and time.monotonic() < deadline:
        _reap(children)
        time.sleep(0.05)
    for pid in children:
        logger.warning("worker %d did not stop in time; killing it", pid)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
