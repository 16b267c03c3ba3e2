"""Ground truth for the growth marts: what the generator's phone numbers and templates were at every moment.

The management events mutate the world's state when they fire (events.py); this records the state after each
one, so tests can compare the warehouse's day-by-day story (limits, ratings, statuses, template quality and
categories) with what the generator meant rather than with what its payloads say. Written beside
ground_truth.json as ground_truth_growth.json.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import orjson

from pipelines.sample import model
from pipelines.sample.events import Event
from pipelines.sample.world import World, day_start_ts


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class GrowthTruth:
    def __init__(self, world: World, events: list[Event]) -> None:
        self.world = world
        self.phones: dict[str, list[dict]] = {p.phone_number_id: [] for p in world.phones}
        self.templates: dict[int, list[dict]] = {t.template_id: [] for t in world.templates}
        self._record(day_start_ts(world.start))
        for event in events:
            event.build = self._recording(event)

    def _recording(self, event: Event):
        build = event.build

        def recorded():
            changes = build()
            self._record(event.ts)
            return changes
        return recorded

    def _record(self, ts: int) -> None:
        for p in self.world.phones:
            state = {"messaging_limit": p.messaging_limit, "quality_rating": p.quality_rating, "status": p.status}
            self._append(self.phones[p.phone_number_id], ts, state)
        for t in self.world.templates:
            state = {"status": t.status, "quality": t.quality, "category": t.category}
            self._append(self.templates[t.template_id], ts, state)

    @staticmethod
    def _append(history: list[dict], ts: int, state: dict) -> None:
        if not history or {k: history[-1][k] for k in state} != state:
            history.append({"at": _iso(ts), **state})

    def as_dict(self) -> dict:
        return {
            "ladder_change": model.LADDER_CHANGE.isoformat(),
            "phones": {p.phone_number_id: {"waba_id": p.waba.waba_id, "portfolio_id": p.waba.portfolio_id,
                                           "history": self.phones[p.phone_number_id]} for p in self.world.phones},
            "templates": {str(t.template_id): {"waba_id": t.waba.waba_id, "name": t.name, "language": t.language,
                                               "created": t.created.isoformat(), "history": self.templates[t.template_id]}
                          for t in self.world.templates},
        }

    def write(self, out: Path) -> None:
        (out / "ground_truth_growth.json").write_bytes(
            orjson.dumps(self.as_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
