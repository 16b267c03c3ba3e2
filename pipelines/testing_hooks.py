"""A test-only hook: stop the process at a named point so a test can kill it there with SIGKILL.

Set WABA_TEST_HALT_AT to a point's name (e.g. `commit:message_logs/2026-10.csv`, `publish:copied`) and
WABA_TEST_HALTED_FILE to a path: on reaching that point the process writes its pid to the file and
waits; the test then sends kill -9. Unset (always, outside tests) it does nothing. See tests/README.md.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

HALT_ENV = "WABA_TEST_HALT_AT"
HALTED_FILE_ENV = "WABA_TEST_HALTED_FILE"


def halt_point(name: str) -> None:
    if os.environ.get(HALT_ENV) != name:
        return
    marker = os.environ.get(HALTED_FILE_ENV)
    if marker:
        Path(marker).write_text(f"{os.getpid()} {name}\n")
    while True:  # until killed
        time.sleep(1)
