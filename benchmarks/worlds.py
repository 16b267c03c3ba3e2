"""The sample world every benchmark measures on: generated once under the work folder, then reused."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path


def ensure_world(work: Path, envelopes: str, world: Path | None = None, marker: str = "ground_truth.json") -> Path:
    """`world` as given, else <work>/world-<envelopes>, generated when its `marker` file is missing (an older
    generator's world lacks the newer ground-truth files). Sets WABA_APP_SECRET as `waba run` does for the
    sample world, so its capture records verify."""
    from pipelines.cli import _scale
    from pipelines.sample import generate_world

    if world is None:
        world = work / f"world-{envelopes}"
        if not (world / marker).exists():
            shutil.rmtree(world, ignore_errors=True)
            started = time.perf_counter()
            generate_world(world, envelopes=_scale(envelopes))
            print(f"generated {world} in {time.perf_counter() - started:.1f}s", flush=True)
    os.environ.setdefault("WABA_APP_SECRET", json.loads((world / "ground_truth.json").read_text())["app_secret"])
    work.mkdir(parents=True, exist_ok=True)
    return world


class HeldBackDay:
    """The world's last Cloud API day file, moved out of webhooks/ for a "+1 day" step. It waits inside the world
    folder (<world>/.held-back), so an interrupted benchmark loses nothing: the next one puts it back first."""

    def __init__(self, world: Path):
        cloud, parking = world / "webhooks" / "cloud", world / ".held-back"
        for parked in parking.glob("*"):
            shutil.move(parked, cloud / parked.name)
        self.path = sorted(cloud.glob("*.jsonl.gz"))[-1]
        parking.mkdir(exist_ok=True)
        self.parked = parking / self.path.name
        shutil.move(self.path, self.parked)

    def restore(self) -> None:
        if self.parked.exists():
            shutil.move(self.parked, self.path)
