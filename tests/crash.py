"""Killing a real child process with SIGKILL at a named point (see tests/README.md, "Crash points")."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def kill_at(point: str, args: list[str], marker: Path, env: dict | None = None, timeout: float = 120) -> None:
    """Run `python args...` until it reaches `point` (pipelines.testing_hooks), then kill -9 it there."""
    child_env = {**os.environ, **(env or {}), "WABA_TEST_HALT_AT": point, "WABA_TEST_HALTED_FILE": str(marker)}
    child = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=child_env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while not marker.exists():
            if child.poll() is not None:
                raise AssertionError(f"the child ended (exit {child.returncode}) without reaching {point}: "
                                     f"{child.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the child did not reach {point} within {timeout}s")
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()
