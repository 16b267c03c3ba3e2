"""Compliance: how many business-initiated messages had a provable opt-in, over time and by status, and which
templates and campaigns sent without one."""
from __future__ import annotations

import duckdb

from pipelines.compliance import CONSENT_STATUSES, PERMITTED_STATUSES
from pipelines.reports import charts
from pipelines.reports.tables import query_table

TITLE = "Compliance"
QUESTION = "Did every business-initiated message have a provable opt-in, and where did it not?"

NOT_COVERED = [s for s in CONSENT_STATUSES if s not in PERMITTED_STATUSES]


def content(conn: duckdb.DuckDBPyConnection) -> dict:
    statuses = ", ".join(f"sum({s}) AS {s}" for s in CONSENT_STATUSES)
    messages, covered, meta_stop = conn.execute(
        "SELECT coalesce(sum(messages), 0), coalesce(sum(permitted), 0), coalesce(sum(meta_failed_131050), 0) "
        "FROM marts.optin_coverage_daily").fetchone()
    return {
        "kpis": [
            ("Business-initiated messages", f"{messages:,}"),
            ("Permitted (opt-in, or a reply in the customer's window)", f"{covered / messages:.1%}" if messages else "n/a"),
            ("Not permitted", f"{messages - covered:,}"),
            ("Failed by Meta: marketing stopped (131050)", f"{meta_stop:,}"),
        ],
        "coverage": charts.lines(conn.execute("""
            SELECT date_trunc('week', day)::DATE AS week, category, sum(permitted) / sum(messages)
            FROM marts.optin_coverage_daily GROUP BY ALL ORDER BY week""").fetchall(),
            "compliance-coverage", "coverage rate (weekly)", hover="%{y:.1%}", y_format=".0%"),
        "statuses": charts.stacked_bars(conn.execute(f"""
            SELECT month, status, messages FROM (
                UNPIVOT (SELECT date_trunc('month', day)::DATE AS month, {statuses} FROM marts.optin_coverage_daily GROUP BY ALL)
                ON COLUMNS(* EXCLUDE (month)) INTO NAME status VALUE messages)
            WHERE messages > 0 ORDER BY month""").fetchall(),
            "compliance-statuses", "messages", hover="%{y:,} messages"),
        "status_totals": query_table(conn, f"""
            SELECT status, messages, messages / sum(messages) OVER () FROM (
                UNPIVOT (SELECT {statuses} FROM marts.optin_coverage_daily) ON COLUMNS(*) INTO NAME status VALUE messages)
            ORDER BY messages DESC""",
            [("Consent status", "text"), ("Messages", "int"), ("Share", "share")]),
        "templates": query_table(conn, f"""
            SELECT template_name, category, sum(messages), sum(messages) - sum(permitted) AS without,
                   1 - sum(permitted) / sum(messages), {", ".join(f"sum({s})" for s in NOT_COVERED)}
            FROM marts.optin_coverage_daily GROUP BY ALL HAVING without > 0 ORDER BY without DESC LIMIT 25""",
            [("Template", "text"), ("Category", "text"), ("Messages", "int"), ("Without opt-in", "int"),
             ("Share without", "share")] + [(s, "int") for s in NOT_COVERED]),
        "campaigns": query_table(conn, f"""
            SELECT coalesce(campaign, '(no campaign)'), sum(messages), sum(messages) - sum(permitted) AS without,
                   1 - sum(permitted) / sum(messages), {", ".join(f"sum({s})" for s in NOT_COVERED)}
            FROM marts.optin_coverage_daily GROUP BY ALL HAVING without > 0 ORDER BY without DESC LIMIT 25""",
            [("Campaign", "text"), ("Messages", "int"), ("Without opt-in", "int"), ("Share without", "share")]
            + [(s, "int") for s in NOT_COVERED]),
        "meta_failures": query_table(conn, """
            SELECT date_trunc('month', day)::DATE, sum(meta_failed_131050), sum(meta_failed_131049), sum(meta_failed_131047),
                   sum(opted_out)
            FROM marts.optin_coverage_daily GROUP BY ALL ORDER BY 1""",
            [("Month", "date"), ("131050 marketing stopped", "int"), ("131049 ecosystem limit", "int"),
             ("131047 outside 24 h", "int"), ("Sent while opted out (ours)", "int")]),
    }
