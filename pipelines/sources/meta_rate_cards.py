"""Meta's own rate-card downloads: the per-currency list-rate file and the volume-tier file.

Meta links both from its pricing page, per currency; businesses download them (the links expire). Their
layout (documented by the loaders of OJoshuaCG/meta-whatsapp-pricing and described in docs/finance.md):

- list-rate file: a few note lines, then a header row ``Market, Currency, Marketing, Utility,
  Authentication, Authentication-International[, Service]`` (a header cell may hold a line break), then one
  row per market; ``n/a`` where a market has no rate in that category.
- volume-tier file: title, link and two group-header lines, then a header row starting
  ``Market (per rate card), Currency, From, To, Rate type, Rate, vs. List rate`` and two more groups of five
  columns (utility, authentication, authentication-international); the market is named on the first row of
  its bands only; ``--`` for an open upper bound; amounts may carry thousands separators.

Neither file states its effective date reliably, so the date comes from the file name (``..._2026-07-01.csv``)
or, failing that, from a date written in the note lines. Rows come out in the generic rate-card shape, so the
rest of the load (typing, duplicates, quarantine) is the generic one.
"""
from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

GENERIC_COLUMNS = ("effective_from", "market", "category", "currency", "rate", "volume_from", "volume_to")
LIST_CATEGORIES = {"marketing": "marketing", "utility": "utility", "authentication": "authentication",
                   "authentication-international": "authentication_international", "service": "service"}
LIST_REQUIRED = ("market", "currency", "marketing", "utility", "authentication")
TIER_GROUPS = ("utility", "authentication", "authentication_international")
TIER_FIELDS = ("from", "to", "rate type", "rate", "vs. list rate")
# Meta's files write some currencies as symbols or with typos (seen by the loaders cited above).
CURRENCY_ALIASES = {"$US": "USD", "US$": "USD", "A$": "AUD", "£": "GBP", "GBD": "GBP", "₹": "INR", "RP": "IDR",
                    "€": "EUR", "R$": "BRL"}
NOT_APPLICABLE = {"", "n/a", "na", "--", "-"}
HEADER_SCAN_LINES = 12
ISO_DATE = re.compile(r"(20\d\d)-(\d\d)-(\d\d)")
WORD_DATE = re.compile(r"(January|February|March|April|May|June|July|August|September|October|November|December)"
                       r"\s+(\d{1,2}),?\s+(20\d\d)", re.IGNORECASE)


class MetaRateCardError(ValueError):
    """A Meta-layout file that cannot be read; the message names the column or line."""


@dataclass
class ParsedCard:
    layout: str                                   # 'meta_list_rates' or 'meta_volume_tiers'
    rows: list[tuple[int, tuple[str, ...]]]       # (line number, generic columns as text)
    rejects: list[tuple[int, str, str]]           # (line number, original text, detail)


def _records(path: Path) -> list[tuple[int, list[str]]]:
    """CSV records with the physical line each starts on (a quoted cell may span lines)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        out, line = [], 1
        for record in reader:
            out.append((line, record))
            line = reader.line_num + 1
        return out


def _norm(cell: str) -> str:
    return " ".join(cell.replace("\n", " ").replace("\r", " ").split()).strip().lower().replace("- ", "-")


def _layout(records: list[tuple[int, list[str]]]) -> tuple[str, int] | None:
    for i, (_, record) in enumerate(records[:HEADER_SCAN_LINES]):
        cells = [_norm(c) for c in record]
        if not cells or not cells[0].startswith("market"):
            continue
        if "from" in cells and "rate type" in cells:
            return "meta_volume_tiers", i
        if "currency" in cells:
            return "meta_list_rates", i
    return None


def is_meta_layout(path: Path) -> bool:
    """True when the file's first lines carry Meta's list-rate or volume-tier header (not our generic CSV)."""
    try:
        head = []
        for item in _records(path):
            head.append(item)
            if len(head) >= HEADER_SCAN_LINES:
                break
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    if head and "effective_from" in [_norm(c) for c in head[0][1]]:
        return False
    return _layout(head) is not None


def effective_date(path: Path, notes: list[list[str]]) -> date:
    for text in [path.name] + [" ".join(r) for r in notes]:
        if m := ISO_DATE.search(text):
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                continue
        if m := WORD_DATE.search(text):
            return datetime.strptime(f"{m[1].title()} {m[2]} {m[3]}", "%B %d %Y").date()
    raise MetaRateCardError(
        "cannot tell the date the rates apply from: put it in the file name, e.g. "
        f"'{path.stem}_2026-07-01{''.join(path.suffixes)}'")


def _currency(raw: str) -> str:
    value = raw.strip()
    return CURRENCY_ALIASES.get(value, CURRENCY_ALIASES.get(value.upper(), value.upper()))


def _amount(raw: str) -> str | None:
    """Meta's figure as plain decimal text ('1,940.13' -> '1940.13'); None when not applicable."""
    text = raw.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
    if text.lower() in NOT_APPLICABLE:
        return None
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        raise ValueError(raw)
    return text


def parse(path: Path) -> ParsedCard:
    records = _records(path)
    found = _layout(records)
    if found is None:
        raise MetaRateCardError("no Meta rate-card header row (Market, Currency, ...) in its first lines")
    layout, header_at = found
    effective = effective_date(path, [r for _, r in records[:header_at]]).isoformat()
    header_line, header = records[header_at]
    data = records[header_at + 1:]
    if layout == "meta_list_rates":
        return ParsedCard(layout, *_parse_list(effective, header_line, header, data))
    return ParsedCard(layout, *_parse_tiers(effective, header_line, header, data))


def _parse_list(effective: str, header_line: int, header: list[str], data) -> tuple[list, list]:
    cells = [_norm(c) for c in header]
    index = {name: cells.index(name) for name in set(cells) if name}
    missing = [name for name in LIST_REQUIRED if name not in index]
    if missing:
        raise MetaRateCardError(
            f"Meta list-rate header (line {header_line}) has no {', '.join(repr(m.title()) for m in missing)} column; "
            "expected Market, Currency, Marketing, Utility, Authentication, Authentication-International[, Service]")
    rows, rejects = [], []
    for line, record in data:
        if not any(c.strip() for c in record):
            continue
        get = lambda name: record[index[name]].strip() if index[name] < len(record) else ""  # noqa: E731
        market, currency = get("market"), get("currency")
        if not market:
            continue  # a trailing note line
        for column, category in LIST_CATEGORIES.items():
            if column not in index:
                continue
            try:
                rate = _amount(get(column))
            except ValueError:
                rejects.append((line, ",".join(record), f"bad_number: column '{header[index[column]].strip()}'={get(column)!r}"))
                continue
            if rate is not None:
                rows.append((line, (effective, market, category, _currency(currency), rate, "0", "")))
    return rows, rejects


def _parse_tiers(effective: str, header_line: int, header: list[str], data) -> tuple[list, list]:
    cells = [_norm(c) for c in header]
    expected = 2 + len(TIER_GROUPS) * len(TIER_FIELDS)
    if len(cells) < expected or cells[1] != "currency":
        raise MetaRateCardError(f"Meta volume-tier header (line {header_line}) has {len(cells)} columns; expected "
                                f"{expected}: Market, Currency, then From, To, Rate type, Rate, vs. List rate for "
                                "utility, authentication and authentication-international")
    for g in range(len(TIER_GROUPS)):
        for f, field in enumerate(TIER_FIELDS):
            at = 2 + g * len(TIER_FIELDS) + f
            if not cells[at].startswith(field.split()[0]):
                raise MetaRateCardError(f"Meta volume-tier header (line {header_line}) column {at + 1} is "
                                        f"{header[at].strip()!r}; expected {field.title()!r} ({TIER_GROUPS[g]})")
    rows, rejects, market, currency = [], [], "", ""
    for line, record in data:
        if not any(c.strip() for c in record):
            continue
        record = record + [""] * (expected - len(record))
        market = record[0].strip() or market          # named on the first band only
        currency = record[1].strip() or currency
        if not market:
            continue
        for g, category in enumerate(TIER_GROUPS):
            base = 2 + g * len(TIER_FIELDS)
            lo, hi, _, rate = (record[base + k] for k in range(4))
            if all(c.strip().lower() in NOT_APPLICABLE for c in (lo, hi, rate)):
                continue
            try:
                lo_n, hi_n, rate_n = _amount(lo), _amount(hi), _amount(rate)
            except ValueError as exc:
                column = next(header[base + k].strip() for k, v in enumerate((lo, hi, "", rate)) if v == exc.args[0])
                rejects.append((line, ",".join(record), f"bad_number: column '{column}' ({category})={exc.args[0]!r}"))
                continue
            if rate_n is None or lo_n is None:
                rejects.append((line, ",".join(record), f"missing_value: column 'From' or 'Rate' ({category})"))
                continue
            # Meta counts the first band from 0 or 1; our bands start at 0 for the first one.
            volume_from = "0" if int(float(lo_n)) <= 1 else str(int(float(lo_n)))
            volume_to = "" if hi_n is None else str(int(float(hi_n)))
            rows.append((line, (effective, market, category, _currency(currency), rate_n, volume_from, volume_to)))
    return rows, rejects
