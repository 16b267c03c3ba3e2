"""The `waba receive` subcommand: its options and what it does with them."""
from __future__ import annotations

import argparse
import socket
from pathlib import Path

from pipelines import settings
from pipelines.errors import UserError
from pipelines.receive.config import DEFAULT_MAX_BODY_BYTES, ReceiveConfig, secrets_from_env


def add_receive_parser(commands) -> None:
    receive = commands.add_parser(
        "receive", help="run the live webhook endpoint that archives every delivery into the landing folder",
        description="Answer Meta's webhook verification (GET /webhook, WABA_VERIFY_TOKEN), check every POST's "
                    "X-Hub-Signature-256 (WABA_APP_SECRET) and append each delivery as a capture record to "
                    "<landing>/webhooks/live/YYYY/MM/DD/HH-<host>-<pid>.jsonl.part, answering 200 only once it "
                    "is on disk. Each hour's file is closed to .jsonl at the hour and on shutdown; `waba run` "
                    "loads the closed ones. GET /healthz reports counters and the forward outbox. Put it behind "
                    "a TLS reverse proxy (Meta requires HTTPS): see docs/receive.md.")
    receive.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s; the "
                         "TLS proxy in front connects here)")
    receive.add_argument("--port", type=int, default=8080, help="port (default %(default)s)")
    receive.add_argument("--landing", type=Path, default=settings.default_landing(),
                         help="landing folder to archive into (default %(default)s)")
    receive.add_argument("--forward", metavar="URL", default=None,
                         help="also pass every verified delivery on to your app at this URL (same body and "
                              "signature header), from a durable outbox; your app being down never delays the 200")
    receive.add_argument("--state", type=Path, default=None, metavar="DIR",
                         help="folder for the forward outbox and the sample of rejected POSTs "
                              "(default <landing>/.receive)")
    receive.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES, metavar="N",
                         help="larger POST bodies get 413 (default %(default)s = 4 MiB; Meta's payloads are at "
                              "most 3 MB)")
    receive.add_argument("--workers", type=int, default=1, metavar="N",
                         help="worker processes accepting on the port (default %(default)s); each writes its own "
                              "hour file; one per core is plenty. Not with --forward (one outbox, one forwarder)")
    receive.add_argument("--gzip", action="store_true", help="compress each closed hour file to .jsonl.gz")
    receive.add_argument("--log-interval", type=float, default=60.0, metavar="SECONDS",
                         help="seconds between the one-line counters log (default %(default)s)")
    receive.add_argument("--insecure-no-signature", action="store_true",
                         help="start without WABA_APP_SECRET and archive POSTs unchecked (testing only)")


def cmd_receive(args: argparse.Namespace) -> int:
    from pipelines.receive.server import serve

    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, got {args.port}")
    if not 1 <= args.workers <= 64:
        raise UserError(f"--workers must be between 1 and 64, got {args.workers}")
    if args.workers > 1 and args.forward:
        raise UserError("--forward needs a single worker (one outbox, one forwarder): drop --workers or --forward")
    if args.max_body_bytes < 1:
        raise UserError("--max-body-bytes must be positive")
    if args.forward and not args.forward.startswith(("http://", "https://")):
        raise UserError(f"--forward expects an http:// or https:// URL, got {args.forward!r}")
    if not args.landing.is_dir():
        raise UserError(f"{args.landing}: landing folder does not exist (create it, or pass --landing)")
    _check_port_free(args.host, args.port)
    secret, token = secrets_from_env(args.insecure_no_signature)
    serve(ReceiveConfig(landing=args.landing, host=args.host, port=args.port, forward=args.forward,
                        state=args.state, max_body_bytes=args.max_body_bytes, gzip=args.gzip, app_secret=secret,
                        verify_token=token, insecure=args.insecure_no_signature, log_interval=args.log_interval),
          workers=args.workers)
    return 0


def _check_port_free(host: str, port: int) -> None:
    """One line instead of uvicorn's traceback when the address is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror} (is another receiver running? "
                            "choose another --port)") from None
