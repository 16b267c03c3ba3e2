"""Meta's side of the bill for the sample world: the invoice lines and the pricing analytics Meta would
return, both computed from what Meta billed (ground_truth_messages.parquet), never from the archive.

Meta's analytics look back one year, so analytics are written only for the months that fit in the year
before the fetch; invoices cover every month. The analytics are saved in the same shape `waba fetch`
saves a Graph API response.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import orjson
import polars as pl

from pipelines.sample import writers
from pipelines.sample.group_messages import DELIVERIES_FILE
from pipelines.sample.truth import Truth
from pipelines.sample.world import World

API_VERSION = "v24.0"


def _billed(out: Path, world: World) -> pl.DataFrame:
    """One row per message Meta delivered and priced, with its local month."""
    offsets = pl.DataFrame({"waba_id": [w.waba_id for w in world.wabas], "utc_offset_s": [w.utc_offset_s for w in world.wabas],
                            "currency": [w.currency for w in world.wabas]})
    # A group message is billed per participant it was delivered to (group_messages.py): its deliveries replace it.
    columns = ["message_id", "waba_id", "sent_at", "market", "country", "delivered", "final_status", "billed_model",
               "billed_category", "billed_type", "meta_charge_micros"]
    messages = pl.read_parquet(out / "ground_truth_messages.parquet").select(columns)
    deliveries = out / DELIVERIES_FILE
    if deliveries.exists():
        per_participant = pl.read_parquet(deliveries).select(columns)
        replaced = per_participant.select("message_id").unique()
        messages = pl.concat([messages.join(replaced, on="message_id", how="anti"), per_participant])
    return (messages
            .filter(pl.col("billed_type").is_not_null() & (pl.col("delivered") | pl.col("final_status").is_null()))
            .join(offsets, on="waba_id")
            .with_columns(month=(pl.col("sent_at") + pl.duration(seconds=pl.col("utc_offset_s"))).dt.truncate("1mo").dt.date()))


def write_invoices(out: Path, world: World, truth: Truth) -> None:
    lines = (_billed(out, world).filter(pl.col("meta_charge_micros") > 0)
             .group_by("month", "waba_id", "market", "billed_category", "currency")
             .agg(pl.col("meta_charge_micros").sum())
             .sort("month", "waba_id", "market", "billed_category"))
    rows = [(m.strftime("%Y-%m"), w, market, cat, f"{micros / 1_000_000:.6f}", cur)
            for m, w, market, cat, cur, micros in lines.select("month", "waba_id", "market", "billed_category", "currency",
                                                               "meta_charge_micros").rows()]
    rel = "invoices/invoices.csv"
    writers.write_csv(out / rel, ("month", "waba_id", "market", "category", "amount", "currency"), rows)
    truth.file(rel).rows_in += len(rows)
    truth.expected["invoice_lines"] += len(rows)


def _unix(day: date, utc_offset_s: int) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) - utc_offset_s


def write_pricing_analytics(out: Path, world: World, truth: Truth) -> None:
    fetched = datetime.combine(world.end + timedelta(days=1), datetime.min.time(), timezone.utc) + timedelta(hours=6)
    first_month = date(fetched.year - 1, fetched.month, 1) + timedelta(days=32)
    first_month = first_month.replace(day=1)  # the first whole month inside Meta's one-year lookback
    billed = _billed(out, world).filter((pl.col("billed_model") == "PMP") & (pl.col("month") >= first_month))
    points = (billed.group_by("waba_id", "month", "country", "billed_type", "billed_category", "currency", "utc_offset_s")
              .agg(volume=pl.len(), micros=pl.col("meta_charge_micros").sum())
              .sort("waba_id", "month", "country", "billed_type", "billed_category"))
    for waba in world.wabas:
        mine = points.filter(pl.col("waba_id") == waba.waba_id)
        if mine.is_empty():
            continue
        start, end = _unix(first_month, waba.utc_offset_s), int(fetched.timestamp())
        fields = (f"pricing_analytics.start({start}).end({end}).granularity(MONTHLY)"
                  ".dimensions([\"COUNTRY\",\"PRICING_CATEGORY\",\"PRICING_TYPE\"])")
        data_points = []
        for month, country, ptype, category, volume, micros in mine.select(
                "month", "country", "billed_type", "billed_category", "volume", "micros").rows():
            next_month = (month + timedelta(days=32)).replace(day=1)
            point = {"start": _unix(month, waba.utc_offset_s), "end": _unix(next_month, waba.utc_offset_s),
                     "country": country, "pricing_type": ptype.upper(), "pricing_category": category.upper(), "volume": volume}
            if ptype == "regular":
                point["cost"] = micros / 1_000_000
            data_points.append(point)
        request = {"method": "GET", "path": f"/{API_VERSION}/{waba.waba_id}", "params": {"fields": fields}}
        body = {"fetched_at": fetched.strftime("%Y-%m-%dT%H:%M:%SZ"), "kind": "pricing_analytics", "waba_id": waba.waba_id,
                "request": request,
                "response": {"pricing_analytics": {"data": [{"data_points": data_points}]}, "currency": waba.currency,
                             "id": waba.waba_id}}
        digest = hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()[:8]
        rel = f"business_manager/graph/pricing_analytics/{waba.waba_id}/{fetched:%Y%m%dT%H%M%SZ}-000-{digest}.json"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
        truth.file(rel).rows_in += 1
        truth.expected["pricing_analytics"] += len(data_points)
