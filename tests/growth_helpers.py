"""Hand-built landing folders for the growth marts: send-log rows, snapshots and webhooks through the real loaders."""
import csv
from datetime import datetime, timezone
from pathlib import Path

from conftest import envelope, load_all, messages_value, write_lines

from pipelines.dbt_project import build as build_models
from pipelines.forecast import build_forecasts
from pipelines.warehouse import open_warehouse


def ts(text: str) -> int:
    """'2025-08-01 20:00' (UTC) as Unix seconds."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc).timestamp())


def iso(text: str) -> str:
    return datetime.fromtimestamp(ts(text), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def accounts(landing: Path, rows: list[tuple[str, str]]) -> None:
    """(waba_id, business_portfolio_id) pairs, all in UTC and USD."""
    write_csv(landing / "business_manager" / "accounts.csv", ["waba_id", "business_portfolio_id", "timezone", "currency"],
              [(w, p, "UTC", "USD") for w, p in rows])


def phone_snapshot(landing: Path, at: str, rows: list[tuple]) -> None:
    """(waba_id, phone_number_id, display digits, quality_rating, messaging_limit, status) at `at`."""
    write_csv(landing / "business_manager" / f"phone_numbers_{at[:10]}.csv",
              ["snapshot_at", "waba_id", "phone_number_id", "display_phone_number", "quality_rating", "messaging_limit", "status"],
              [(iso(at), *row) for row in rows])


def template_snapshot(landing: Path, at: str, rows: list[tuple]) -> None:
    """(waba_id, template_id, name, language, category, status, quality_score) at `at`."""
    write_csv(landing / "business_manager" / f"templates_{at[:10]}.csv",
              ["snapshot_at", "waba_id", "template_id", "name", "language", "category", "status", "quality_score"],
              [(iso(at), *row) for row in rows])


def send_log(landing: Path, rows: list[tuple], delivered: bool | set[str] = True, name: str = "log") -> None:
    """(message_id, sent at 'YYYY-MM-DD HH:MM', waba_id, phone_number_id, recipient, template_name or None).

    Each message in `delivered` (all when True) also gets a 'delivered' status a minute after it was sent: the
    messaging limit counts delivered messages only (Meta, Messaging Limits, May 21, 2026)."""
    chosen = [r for r in rows if delivered is True or (delivered and r[0] in delivered)]
    if chosen:
        status_rows = [(mid, at, phone, to, "delivered") for mid, at, _, phone, to, _ in chosen]
        statuses(landing, f"{name}_delivered", status_rows)
    write_csv(landing / "message_logs" / f"{name}.csv",
              ["message_id", "sent_at", "waba_id", "phone_number_id", "recipient_id", "message_type", "template_name",
               "template_language", "template_category"],
              [(mid, iso(at), waba, phone, to, "template" if name else "text", name or "", "en_US" if name else "",
                "MARKETING" if name else "") for mid, at, waba, phone, to, name in rows])


def statuses(landing: Path, name: str, rows: list[tuple]) -> None:
    """Status webhooks: (message_id, sent at, phone_number_id, recipient, status[, extra status fields]), reported a
    minute after the send. A recipient with a dot is a business-scoped user id (recipient_user_id), else a wa_id."""
    lines = []
    for mid, at, phone, to, status, *extra in rows:
        key = "recipient_user_id" if "." in to else "recipient_id"
        value = messages_value(phone_number_id=phone, statuses=[
            {"id": mid, "status": status, "timestamp": str(ts(at) + 60), key: to, **(extra[0] if extra else {})}])
        del value["metadata"]["display_phone_number"]   # the snapshots name the numbers; one fixed display would rename them all
        lines.append(envelope("W1", "messages", value))
    write_lines(landing / "webhooks" / f"{name}.jsonl", lines)


def inbound(landing: Path, name: str, rows: list[tuple[str, str, str, str]]) -> None:
    """Customer messages: (message_id, at, phone_number_id, customer wa_id)."""
    lines = [envelope("W1", "messages", messages_value(
        phone_number_id=phone, messages=[{"from": who, "id": mid, "timestamp": str(ts(at)), "type": "text", "text": {"body": "hi"}}]))
        for mid, at, phone, who in rows]
    write_lines(landing / "webhooks" / f"{name}.jsonl", lines)


def management(landing: Path, name: str, rows: list[tuple[str, str, str, dict]]) -> None:
    """Management webhooks: (waba_id, at, field, value)."""
    write_lines(landing / "webhooks" / f"{name}.jsonl", [envelope(w, f, v, time=ts(at)) for w, at, f, v in rows])


def build(warehouse: Path, landing: Path) -> None:
    load_all(warehouse, landing)
    build_models(warehouse, select="group:finance group:growth")
    with open_warehouse(warehouse) as conn:
        build_forecasts(conn)
