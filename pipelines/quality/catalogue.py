"""Every data-quality check, by the layer whose assets it guards.

Critical: a failure means the numbers downstream would be wrong (a double-counted message, a negative charge, a
file not accounted for); it blocks every downstream asset and makes `waba run` exit 2. Warn: a failure is worth
a look but the answers still stand (an out-of-order timestamp, a template Meta never told us about); it is
reported in marts.data_quality_results and the report, and the run goes on. Unknown enum values are reported,
never failed: Meta adds values without notice, and staging keeps them.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipelines.compliance import CONSENT_STATUSES
from pipelines.quality.checks import CRITICAL, WARN, Check, expectation_check, sql_check

# WhatsApp Business API opened in August 2018: nothing we load can be older. The upper bound allows two days for
# clocks and timezones ahead of ours.
EARLIEST = datetime(2018, 8, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=2)


def unique_not_null(asset: tuple[str, ...], key: list[str], not_null: list[str] | None = None) -> Check:
    """The key identifies a row: no two rows share it (NULLs compare equal) and its id columns are never NULL."""
    table = ".".join(asset)
    not_null = not_null or key
    keys = ", ".join(key)
    nulls = " OR ".join(f"{c} IS NULL" for c in not_null)
    return sql_check(
        "ids_unique_not_null", asset, CRITICAL, f"({keys}) identifies a row: unique, and {', '.join(not_null)} never NULL.",
        f"""
        WITH dup AS (SELECT {keys}, count(*) AS n FROM {table} GROUP BY ALL HAVING n > 1),
             nul AS (SELECT count(*) AS n FROM {table} WHERE {nulls})
        SELECT (SELECT coalesce(sum(n - 1), 0) FROM dup) + (SELECT n FROM nul),
               (SELECT string_agg(DISTINCT concat_ws('/', {keys}), ', ') FROM (SELECT * FROM dup LIMIT 3))
        """,
        f"no duplicate ({keys}); no NULL in {', '.join(not_null)}")


def timestamps_in_range(asset: tuple[str, ...], column: str) -> Check:
    """Each day's earliest and latest value stand for the whole day: a row is out of range only if one of them is."""
    table = ".".join(asset)
    # Rounded up to the next midnight: the bound (and so the recorded expectation) is the same for every run of a day.
    latest = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) + FUTURE_SLACK + timedelta(days=1)
    return expectation_check(
        f"{column}_in_range", asset, WARN,
        f"{column} between {EARLIEST:%Y-%m-%d} (the API's launch) and two days from now.",
        f"""SELECT unnest([min({column}), max({column})]) AS {column} FROM {table}
            WHERE {column} IS NOT NULL GROUP BY date_trunc('day', {column})""",
        lambda gxe: gxe.ExpectColumnValuesToBeBetween(column=column, min_value=EARLIEST, max_value=latest),
        "daily extremes")


def known_values(asset: tuple[str, ...], column: str, values: list[str]) -> Check:
    table = ".".join(asset)
    return expectation_check(
        f"{column}_known", asset, WARN, f"{column} is one of the values we know; unknown ones are reported, not failed.",
        f"SELECT {column}, count(*) AS rows FROM {table} GROUP BY ALL ORDER BY rows DESC",
        lambda gxe: gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values),
        "distinct values", report_only=True)


def not_negative(asset: tuple[str, ...], column: str, day: str, level: str = CRITICAL, grain: str = "days") -> Check:
    """The minimum per `day` (an expression) is not negative exactly when no row is."""
    table = ".".join(asset)
    return expectation_check(
        f"{column}_not_negative", asset, level, f"{column} is never negative (money).",
        f"SELECT {day}::DATE AS day, min({column}) AS min_{column} FROM {table} WHERE {column} IS NOT NULL GROUP BY ALL",
        lambda gxe: gxe.ExpectColumnValuesToBeBetween(column=f"min_{column}", min_value=0),
        grain)


def ingest_checks(raw_sources: dict[str, str]) -> list[Check]:
    """`raw_sources` maps each raw asset name to its source name in raw.load_audit."""
    checks = []
    for asset, source in raw_sources.items():
        checks.append(sql_check(
            "rows_accounted_for", ("raw", asset), CRITICAL,
            "For every loaded file: rows in = rows loaded + duplicates + quarantined.",
            f"""SELECT count(*), string_agg(file_path || ' (' || rows_in || ' in, ' || rows_loaded || ' loaded, '
                       || rows_duplicate || ' duplicate, ' || rows_quarantined || ' quarantined)', ', ')
                FROM raw.load_audit WHERE source = '{source}' AND status <> 'replaced'
                  AND rows_in <> rows_loaded + rows_duplicate + rows_quarantined""",
            "rows_in = rows_loaded + rows_duplicate + rows_quarantined for every file (raw.load_audit)"))
        checks.append(sql_check(
            "no_unreadable_files", ("raw", asset), WARN,
            "No landing file was rejected whole (unreadable, empty, missing columns) or cut short (truncated gzip).",
            f"""SELECT count(*), string_agg(file_path || ': ' || message, ', ')
                FROM raw.load_audit WHERE source = '{source}' AND status IN ('unreadable', 'truncated')""",
            "no file with status 'unreadable' or 'truncated' (raw.load_audit)"))
    return checks


def staging_checks() -> list[Check]:
    statuses, log, inbound, optins = (("staging", t) for t in ("message_statuses", "message_log", "inbound_messages", "optin_events"))
    return [
        unique_not_null(statuses, ["message_id", "status", "recipient_participant_id"], ["message_id", "status"]),
        timestamps_in_range(statuses, "status_at"),
        unique_not_null(log, ["message_id"]),
        timestamps_in_range(log, "sent_at"),
        unique_not_null(inbound, ["message_id"]),
        timestamps_in_range(inbound, "sent_at"),
        known_values(optins, "event", ["opt_in", "opt_out"]),
        known_values(optins, "scope", ["all", "marketing", "utility", "authentication"]),
        timestamps_in_range(optins, "event_at"),
        sql_check("unknown_values_reported", ("staging", "unknown_values"), WARN,
                  "Enum values Meta sent that our reference lists do not know yet: kept in staging, reported here.",
                  """SELECT count(*), string_agg(column_name || '=' || value || ' (' || occurrences || ')', ', ')
                     FROM staging.unknown_values""",
                  "every (column, value) is on our reference lists (staging.unknown_values is empty)", report_only=True),
    ]


def finance_checks() -> list[Check]:
    ledger, conversations, reconciliation = (("marts", t) for t in ("message_ledger", "conversations", "cost_reconciliation"))
    return [
        unique_not_null(ledger, ["message_id"]),
        timestamps_in_range(ledger, "sent_at"),
        expectation_check(
            "delivered_not_before_sent", ledger, WARN, "No message was delivered before it was sent.",
            """SELECT sent_at::DATE AS day, min(epoch(delivered_at) - epoch(sent_at)) AS min_delivery_lag_seconds
               FROM marts.message_ledger WHERE delivered_at IS NOT NULL GROUP BY ALL""",
            lambda gxe: gxe.ExpectColumnValuesToBeBetween(column="min_delivery_lag_seconds", min_value=0), "days"),
        not_negative(ledger, "charge", "sent_at"),
        not_negative(ledger, "unconfirmed_charge", "sent_at"),
        known_values(ledger, "final_status", ["failed", "read", "delivered", "sent", "no_status"]),
        known_values(ledger, "pricing_type", ["regular", "free_customer_service", "free_entry_point", "free_tier"]),
        sql_check(
            "templates_known", ledger, WARN,
            "Every template sent is one Meta told us about (a Business Manager snapshot or a template webhook).",
            """WITH known AS (
                   SELECT waba_id, template_name, template_language FROM staging.template_snapshots
                   UNION SELECT waba_id, template_name, template_language FROM staging.template_status_events
               ), unknown AS (
                   SELECT l.waba_id, l.template_name, l.template_language FROM marts.message_ledger l
                   ANTI JOIN known k ON k.waba_id = l.waba_id AND k.template_name = l.template_name
                                    AND k.template_language IS NOT DISTINCT FROM l.template_language
                   WHERE l.template_name IS NOT NULL
               )
               SELECT count(*), (SELECT string_agg(DISTINCT template_name || '/' || coalesce(template_language, '?'), ', ')
                                 FROM (SELECT * FROM unknown LIMIT 100)) FROM unknown""",
            "(waba_id, template_name, template_language) of every template send in staging.template_snapshots "
            "or staging.template_status_events"),
        sql_check(
            "spend_on_unverified_rates", ledger, WARN,
            "Charges priced from bundled rate-card rows marked unverified (no source found for the figure): "
            "drop Meta's own rate-card files into landing/rate_cards/ to replace them.",
            """SELECT count(*), (SELECT string_agg(currency || ' ' || amount::VARCHAR, ', ' ORDER BY currency) FROM (
                          SELECT currency, sum(charge) AS amount FROM marts.message_ledger
                          WHERE rate_verification = 'unverified' AND charge > 0 GROUP BY currency))
               FROM marts.message_ledger WHERE rate_verification = 'unverified' AND charge > 0""",
            "no charged message's rate comes from a rate-card row with verification = 'unverified'"),
        unique_not_null(conversations, ["conversation_id"]),
        not_negative(conversations, "charge", "opened_at"),
        not_negative(reconciliation, "invoice_amount", "month", WARN, "months"),
        not_negative(reconciliation, "meta_cost", "month", WARN, "months"),
    ]


def compliance_checks() -> list[Check]:
    audit, coverage = ("marts", "optin_audit"), ("marts", "optin_coverage_daily")
    return [
        unique_not_null(audit, ["message_id"]),
        known_values(audit, "consent_status", list(CONSENT_STATUSES)),
        sql_check(
            "messages_in_ledger", audit, WARN, "Every audited message is in the message ledger.",
            """SELECT count(*), string_agg(message_id, ', ') FILTER (rn <= 3) FROM (
                   SELECT a.message_id, row_number() OVER () AS rn FROM marts.optin_audit a
                   ANTI JOIN marts.message_ledger l USING (message_id))""",
            "every marts.optin_audit.message_id in marts.message_ledger"),
        sql_check(
            "covering_optins_name_the_business", audit, WARN,
            "The opt-ins that permit sends name the business (policy: the opt-in must name it; optins/*.csv "
            "column business_name).",
            """SELECT count(*), string_agg(evidence_ref, ', ' ORDER BY evidence_ref) FILTER (rn <= 3) FROM (
                   SELECT evidence_ref, row_number() OVER (ORDER BY evidence_ref, optin_recorded_under, optin_at) AS rn
                   FROM (SELECT DISTINCT optin_recorded_under, optin_at, evidence_ref FROM marts.optin_audit
                         WHERE consent_status IN ('covered', 'covered_identity_changed') AND optin_business_name IS NULL))""",
            "every covering opt-in has a business_name"),
        expectation_check(
            "coverage_rate_is_a_share", coverage, WARN, "coverage_rate is between 0 and 1.",
            """SELECT day, unnest([min(coverage_rate), max(coverage_rate)]) AS coverage_rate
               FROM marts.optin_coverage_daily GROUP BY day""",
            lambda gxe: gxe.ExpectColumnValuesToBeBetween(column="coverage_rate", min_value=0, max_value=1), "daily extremes"),
    ]


def growth_checks() -> list[Check]:
    templates, limits, forecast = ("marts", "template_health"), ("marts", "messaging_limit_daily"), ("marts", "tier_forecast")
    return [
        unique_not_null(templates, ["waba_id", "template_name", "template_language"], ["waba_id", "template_name"]),
        known_values(templates, "quality_score", ["GREEN", "YELLOW", "RED", "UNKNOWN"]),
        unique_not_null(limits, ["scope", "scope_id", "day"]),
        sql_check(
            "forecast_band_in_order", forecast, WARN,
            "The forecast's low date is not after its expected date, nor the expected date after its high date.",
            """SELECT count(*), string_agg(scope_id, ', ') FROM marts.tier_forecast
               WHERE next_upgrade_low > expected_next_upgrade OR expected_next_upgrade > next_upgrade_high""",
            "next_upgrade_low <= expected_next_upgrade <= next_upgrade_high where given"),
    ]
