"""What one receiver runs with: from the command line and the environment (secrets only from there)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import UserError

VERIFY_TOKEN_ENV = "WABA_VERIFY_TOKEN"
APP_SECRET_ENV = "WABA_APP_SECRET"
# Meta caps a webhook payload at 3 MB (Webhooks overview); 4 MiB leaves room and still bounds memory.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ReceiveConfig:
    landing: Path
    host: str = "127.0.0.1"
    port: int = 8080
    forward: str | None = None
    state: Path | None = None            # outbox and rejected sample; default <landing>/.receive
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    gzip: bool = False
    app_secret: bytes | None = None      # None only with insecure=True
    verify_token: str | None = None
    insecure: bool = False
    log_interval: float = 60.0
    forward_max_backoff: float = 60.0
    forward_timeout: float = 10.0

    @property
    def live(self) -> Path:
        from pipelines.receive.hourfiles import LIVE_FOLDER

        return self.landing / LIVE_FOLDER

    @property
    def state_dir(self) -> Path:
        return self.state or self.landing / ".receive"

    def __repr__(self) -> str:  # never print the secrets
        return f"ReceiveConfig(landing={self.landing}, host={self.host}, port={self.port}, forward={self.forward})"


def secrets_from_env(insecure: bool) -> tuple[bytes | None, str | None]:
    secret = os.environ.get(APP_SECRET_ENV) or None
    if secret is None and not insecure:
        raise UserError(f"{APP_SECRET_ENV} is not set: the receiver checks every POST's X-Hub-Signature-256 "
                        "with your Meta app secret (App Dashboard > App settings > Basic); set it, or pass "
                        "--insecure-no-signature to archive unchecked deliveries (testing only)")
    return (secret.encode() if secret else None), (os.environ.get(VERIFY_TOKEN_ENV) or None)
