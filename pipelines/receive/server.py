"""Running the receiver under uvicorn: logging, signals, graceful shutdown, optional worker processes.

With --workers N the parent binds the socket and forks N workers that accept on it; each is a whole
receiver with its own hour file (the pid in the file name keeps them apart) and its own fsync groups.
A worker that dies is replaced, and the replacement closes the dead one's `.part` on start. Workers get
SIGTERM when the parent dies, even by kill -9, so they still finish their requests and close their files.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import sys
import time

import uvicorn

from pipelines.receive.app import Receiver, create_app
from pipelines.receive.config import ReceiveConfig

GRACEFUL_SHUTDOWN_SECONDS = 30
PR_SET_PDEATHSIG = 1
RESTART_PAUSE_SECONDS = 1.0

log = logging.getLogger("waba.receive")


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s waba receive[%(process)d]: %(message)s",
                                           "%Y-%m-%dT%H:%M:%S%z"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def uvicorn_config(app, config: ReceiveConfig) -> uvicorn.Config:
    # No access log: Meta's verification GET carries the verify token in its query string.
    return uvicorn.Config(app, host=config.host, port=config.port, access_log=False, log_level="warning",
                          server_header=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
                          lifespan="on", backlog=2048)


def serve(config: ReceiveConfig, workers: int = 1) -> None:
    """Blocks until SIGINT/SIGTERM: then stops accepting, finishes in-flight requests and closes the hour
    file(s) under their final names."""
    configure_logging()
    log.info("archiving to %s, %s, body cap %d bytes%s%s", config.live,
             "signatures checked" if config.app_secret else "SIGNATURES NOT CHECKED", config.max_body_bytes,
             f", forwarding to {config.forward}" if config.forward else "",
             f", {workers} worker processes" if workers > 1 else "")
    if not config.verify_token:
        log.warning("WABA_VERIFY_TOKEN is not set: Meta's verification GET will be refused")
    log.info("listening on http://%s:%d (POST/GET /webhook, GET /healthz)", config.host, config.port)
    if workers == 1:
        _run_worker(config, sockets=None)
    else:
        _supervise(config, workers)


def _run_worker(config: ReceiveConfig, sockets: list[socket.socket] | None) -> None:
    receiver = Receiver(config)
    receiver.open()   # before serving, so a mistake (outbox in use) is one line, not a failed start-up trace
    server = uvicorn.Server(uvicorn_config(create_app(receiver), config))
    # After a SIGTERM uvicorn re-raises it, so the process ends as killed by it (clean to systemd).
    server.run(sockets=sockets)
    if not server.started:
        raise SystemExit(2)


def _supervise(config: ReceiveConfig, workers: int) -> None:
    listener = socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((config.host, config.port))
    listener.listen(2048)
    listener.set_inheritable(True)
    children: set[int] = set()
    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        for pid in children:
            os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        children.add(_fork_worker(config, listener))
    while children:
        pid, status = os.wait()
        children.discard(pid)
        if not stopping:
            log.error("worker %d ended (%s); starting another, which closes its hour file",
                      pid, _how(status))
            time.sleep(RESTART_PAUSE_SECONDS)
            if not stopping:
                children.add(_fork_worker(config, listener))
    log.info("all workers stopped")


def _fork_worker(config: ReceiveConfig, listener: socket.socket) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:   # the parent died before prctl took effect
            os._exit(0)
        _run_worker(config, sockets=[listener])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        log.exception("worker failed")
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"
