"""Deterministic sample world: a landing folder of WhatsApp Business Platform data plus its ground truth."""

from __future__ import annotations

import gc
import shutil
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import orjson

from pipelines.sample import business, finance_world, limit_scenarios, meta_billing, model
from pipelines.sample.group_messages import GroupMessages
from pipelines.sample.archive import Archive
from pipelines.sample.calls_groups import CallsAndGroups
from pipelines.sample.consent_truth import ConsentTraffic, write_consent_truth
from pipelines.sample.growth_truth import GrowthTruth
from pipelines.sample.limits import MessagingLimits
from pipelines.sample.truth import MessageTruth, Truth
from pipelines.sample.world import build_world

__all__ = ["generate_world"]


@contextmanager
def _rare_collections():
    """The generator allocates millions of small objects that live until their file is written; at the default
    thresholds the garbage collector scans them every few hundred allocations, a tenth of the run. The writer
    process is forked inside, so it inherits the thresholds too."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


@_rare_collections()
def generate_world(
    out: Path,
    *,
    seed: int = 7,
    customers: int = 2000,
    start: date = date(2025, 6, 1),
    end: date = date(2026, 11, 30),
    envelopes: int | None = None,
    app_secret: str = "sample-app-secret",
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the landing folder under `out` and return the ground truth (also saved as out/ground_truth.json).

    `envelopes`, when given, overrides `customers` so the world holds roughly that many webhook envelopes.
    """
    if end < start:
        raise ValueError("end must not be before start")
    out = Path(out)
    # stale files from an earlier run would break byte-identical reruns
    for sub in ("webhooks", "message_logs", "business_manager", "optins", "rate_cards", "invoices", ".ground_truth_chunks"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    if envelopes is not None:
        # the limit scenarios' envelopes come on top of the random cast's
        customers = model.customers_for_envelopes(max(0.0, envelopes - limit_scenarios.expected_envelopes(start, end)), start, end)

    world = build_world(seed, customers, start, end)
    truth = Truth()
    messages = MessageTruth(out)
    archive = Archive(out, seed, start, end, app_secret, truth)
    log = business.MessageLog(out, world, seed, truth)
    traffic = ConsentTraffic(world, seed, truth, messages, archive, log)
    growth = GrowthTruth(world, traffic.schedule.events)
    limits = MessagingLimits(world, seed, traffic, truth, growth)
    scenarios = limit_scenarios.LimitScenarios(world, seed, traffic, growth)  # limits earned step by step
    groups = GroupMessages(world, seed, traffic, out)  # a group message, its own random stream
    business.write_accounts(out, world, truth)

    try:
        day = start
        while day <= end:
            limits.start_day(day)
            if day.day == 1 or day == start:
                if progress:
                    progress(f"{day.isoformat()}: {archive.handed_over:,} envelopes so far")
                business.write_snapshots(out, world, day, truth)
            log.start_day(day)
            scenarios.run_day(day)
            traffic.run_day(day)
            groups.run_day(day)
            archive.write_day(day)
            messages.flush_if_large()
            day += timedelta(days=1)
        limits.finish()
    finally:
        archive.close()
    log.close()
    messages.close()
    groups.close()
    optins = business.write_optins(out, world, seed, truth)
    write_consent_truth(out, traffic, optins)
    business.write_rate_card(out, truth)
    finance_world.write_inr_rate_cards(out, truth, business.VOLUME_TIERS)
    meta_billing.write_invoices(out, world, truth)
    meta_billing.write_pricing_analytics(out, world, truth)
    CallsAndGroups(world, seed, truth).run(out)  # after the traffic: its own cast and RNG stream

    header = {"seed": seed, "start": start.isoformat(), "end": end.isoformat(), "app_secret": app_secret, "customers": customers}
    result = truth.as_dict(header, sum(1 for c in world.customers if c.bsuid_only))
    (out / "ground_truth.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    growth.write(out)
    limits.write(out)
    scenarios.write(out)
    if progress:
        progress(f"done: {truth.envelopes:,} envelopes, {customers:,} customers")
    return result
