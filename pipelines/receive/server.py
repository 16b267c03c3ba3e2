"""Running the receiver under uvicorn: logging, signals, graceful shutdown."""
from __future__ import annotations

import logging
import sys

import uvicorn

from pipelines.receive.app import Receiver, create_app
from pipelines.receive.config import ReceiveConfig

GRACEFUL_SHUTDOWN_SECONDS = 30


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s waba receive: %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    logger = logging.getLogger("waba.receive")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def uvicorn_config(app, config: ReceiveConfig) -> uvicorn.Config:
    # No access log: Meta's verification GET carries the verify token in its query string.
    return uvicorn.Config(app, host=config.host, port=config.port, access_log=False, log_level="warning",
                          server_header=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
                          lifespan="on", backlog=2048)


def serve(config: ReceiveConfig) -> None:
    """Blocks until SIGINT/SIGTERM: then stops accepting, finishes in-flight requests and closes the hour
    file under its final name."""
    configure_logging()
    log = logging.getLogger("waba.receive")
    receiver = Receiver(config)
    server = uvicorn.Server(uvicorn_config(create_app(receiver), config))
    log.info("archiving to %s (hour files %s-%d), %s, body cap %d bytes%s", config.live, receiver.host,
             receiver.pid, "signatures checked" if config.app_secret else "SIGNATURES NOT CHECKED",
             config.max_body_bytes, f", forwarding to {config.forward}" if config.forward else "")
    if not config.verify_token:
        log.warning("WABA_VERIFY_TOKEN is not set: Meta's verification GET will be refused")
    log.info("listening on http://%s:%d (POST/GET /webhook, GET /healthz)", config.host, config.port)
    server.run()  # after a SIGTERM uvicorn re-raises it, so the process ends as killed by it (clean to systemd)
    if not server.started:
        raise SystemExit(2)
