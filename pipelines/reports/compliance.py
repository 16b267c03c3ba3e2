"""Compliance: how many business-initiated messages of the period had a provable opt-in, over time and by status,
and which templates and campaigns sent without one."""
from __future__ import annotations

import duckdb

from pipelines.compliance import CONSENT_STATUSES, PERMITTED_STATUSES
from pipelines.reports import spec
from pipelines.reports.context import human

TITLE = "Compliance"
QUESTION = "Did every business-initiated message have a provable opt-in, and where did it not?"
EMPTY = ("No business-initiated messages yet: `waba run --landing DIR` loads your send logs, webhooks and "
         "opt-in records (landing/optins/, docs/landing.md).")

# Permitted = an opt-in covers it, or it answers a window the customer opened (docs/compliance.md)
NOT_COVERED = [s for s in CONSENT_STATUSES if s not in PERMITTED_STATUSES]
STATUS_LABELS = {"covered": "Covered", "covered_identity_changed": "Covered, identity changed (review)",
                 "user_initiated_window": "Reply in customer's window", "missing": "No opt-in",
                 "after_send": "Opt-in after send", "opted_out": "Opted out", "marketing_stopped": "Marketing stopped",
                 "number_reassigned": "Number reassigned", "out_of_scope": "Other scope"}
META_FAILURES = [("meta_failed_131050", "131050 marketing stopped"), ("meta_failed_131049", "131049 ecosystem limit"),
                 ("meta_failed_131047", "131047 outside 24 h")]


def _status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " "))


def content(conn: duckdb.DuckDBPyConnection) -> dict:
    statuses = ", ".join(f"sum({s}) AS {s}" for s in CONSENT_STATUSES)
    failures = ", ".join(f"sum({c}) AS {c}" for c, _ in META_FAILURES)
    coverage = spec.fact(conn, f"""
        SELECT day, waba_id, phone_number_id, {human('category')} AS category, template_name,
               coalesce(campaign, '(no campaign)') AS campaign,
               sum(messages) AS messages, sum(permitted) AS permitted, sum(messages) - sum(permitted) AS without, {statuses}, {failures}
        FROM marts.optin_coverage_daily GROUP BY ALL ORDER BY ALL""")
    messages = spec.measure("messages")
    without_columns = [spec.value(_status_label(s), spec.measure(s), "int") for s in NOT_COVERED]
    data = {
        "facts": {"coverage": coverage},
        "empty": {"coverage": EMPTY},
        "kpis": {"main": [
            spec.kpi("Business-initiated messages", "coverage", messages, "int"),
            spec.kpi("Permitted (opt-in, or a reply in the customer's window)", "coverage", spec.measure("permitted", "messages"), "share", better="up"),
            spec.kpi("Not permitted", "coverage", spec.measure("without"), "int", better="down"),
            spec.kpi("Failed by Meta: marketing stopped (131050)", "coverage", spec.measure("meta_failed_131050"), "int",
                     better="down"),
        ]},
        "charts": {
            "coverage": spec.time_chart("coverage", [spec.series("", spec.measure("permitted", "messages"), "category")],
                                        "share permitted", "share", kind="line"),
            "statuses": spec.time_chart("coverage", [spec.series(_status_label(s), spec.measure(s))
                                                     for s in CONSENT_STATUSES], "messages", "int"),
        },
        "tables": {
            "templates": spec.table("coverage", [
                spec.dim("Template", "template_name"), spec.dim("Category", "category"),
                spec.value("Messages", messages, "int"), spec.value("Without opt-in", spec.measure("without"), "int"),
                spec.value("Share without", spec.measure("without", "messages"), "share")] + without_columns,
                sort=(3, "desc"), having=3),
            "campaigns": spec.table("coverage", [
                spec.dim("Campaign", "campaign"),
                spec.value("Messages", messages, "int"), spec.value("Without opt-in", spec.measure("without"), "int"),
                spec.value("Share without", spec.measure("without", "messages"), "share")] + without_columns,
                sort=(2, "desc"), having=2),
            "meta_failures": spec.table("coverage", [spec.dim("Month", "month", "month")] + [
                spec.value(label, spec.measure(column), "int") for column, label in META_FAILURES] + [
                spec.value("Sent while opted out (ours)", spec.measure("opted_out"), "int")], sort=(0, "desc"), page=12),
            "by_number": spec.table("coverage", [
                spec.dim("Phone number", "phone_number_id", labels="number"), spec.dim("WABA", "waba_id", labels="waba"),
                spec.value("Messages", messages, "int"), spec.value("Without opt-in", spec.measure("without"), "int"),
                spec.value("Share permitted", spec.measure("permitted", "messages"), "share")], sort=(3, "desc")),
        },
    }
    return {"data": data}
