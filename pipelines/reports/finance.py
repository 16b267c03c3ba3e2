"""Finance: what WhatsApp cost in the period, per currency, where and for what; unit costs; and how our figure
differs from Meta's analytics and the invoice, month by month with the reasons."""
from __future__ import annotations

import duckdb

from pipelines.reports import spec
from pipelines.reports.context import human

TITLE = "Finance"
QUESTION = "What did WhatsApp cost, where, for what, and why does our figure differ from Meta's?"
EMPTY = "No messages yet: `waba run --landing DIR` loads your send logs and webhooks (docs/landing.md)."

# A day of one number, market, category and pricing type: the finest grain any finance chart or KPI needs.
SPEND_SQL = f"""
SELECT day, waba_id, phone_number_id, market, {human('category')} AS category, pricing_model,
       {human('pricing_type')} AS pricing_type, currency,
       sum(messages) AS messages, sum(delivered) AS delivered, sum(billable_units) AS billable_units,
       sum(unpriced_units) AS unpriced_units, sum(charge) AS charge, sum(unverified_charge) AS unverified_charge
FROM marts.spend_daily GROUP BY ALL ORDER BY ALL
"""
TEMPLATES_SQL = f"""
SELECT month AS day, waba_id, template_name, template_language, {human('category')} AS category, currency,
       sum(messages) AS messages, sum(delivered) AS delivered, sum(charge) AS charge
FROM marts.spend_monthly_by_template WHERE template_name IS NOT NULL GROUP BY ALL ORDER BY ALL
"""
CAMPAIGNS_SQL = f"""
SELECT month AS day, waba_id, coalesce(campaign, '(no campaign)') AS campaign, {human('category')} AS category, currency,
       sum(messages) AS messages, sum(delivered) AS delivered, sum(failed) AS failed, sum(charge) AS charge
FROM marts.spend_monthly_by_campaign GROUP BY ALL ORDER BY ALL
"""
RECONCILIATION_SQL = """
SELECT month AS day, waba_id, currency, sum(ledger_units) AS ledger_units, sum(ledger_charge) AS ledger_charge,
       sum(meta_cost) AS meta_cost, sum(invoice_amount) AS invoice_amount, sum(diff_vs_meta) AS diff_vs_meta,
       sum(diff_vs_invoice) AS diff_vs_invoice, sum(explained_amount) AS explained_amount,
       sum(unexplained_vs_invoice) AS unexplained,
       list_sort(list_distinct(flatten(list(list_transform(explanations, e -> e.reason))))) AS reasons
FROM marts.cost_reconciliation GROUP BY ALL ORDER BY ALL
"""
# Months whose charges rest on a rule Meta's page does not confirm (a regime or an allowance reported by
# providers), or on a rate no source we could check gives (rate_verification 'unverified').
NOTES_SQL = """
SELECT DISTINCT date_trunc('month', l.sent_at)::DATE AS day, l.waba_id, l.currency,
       'priced under ' || r.regime || ', rules reported by providers but not confirmed by Meta' AS note
FROM marts.message_ledger l JOIN marts.pricing_regimes r USING (regime) WHERE NOT r.confirmed
UNION
SELECT DISTINCT date_trunc('month', l.sent_at)::DATE, l.waba_id, l.currency,
       'some charges rest on unverified rates (no source we could check gives the figure)'
FROM marts.message_ledger l WHERE l.charge IS NOT NULL AND l.rate_verification = 'unverified'
UNION
SELECT DISTINCT date_trunc('month', l.sent_at)::DATE, l.waba_id, l.currency,
       'the reported ' || a.allowance || ' allowance applies (' || format('{:,}', a.free_units) || ' free ' || a.category
       || ' messages per ' || replace(a.counted_per, '_', ' ') || ' and month; reported, not on Meta''s page)'
FROM marts.message_ledger l JOIN marts.pricing_regimes r USING (regime)
JOIN marts.pricing_allowances a  -- the regime in force from the allowance's date (both go by the local send date)
  ON a.enabled AND NOT a.confirmed AND r.effective_from >= a.effective_from AND l.billed_category = a.category
ORDER BY ALL
"""

UNIT_LABELS = {"CBP": "per conversation (CBP)", "PMP": "per charged message (PMP)"}


def content(conn: duckdb.DuckDBPyConnection) -> dict:
    charge, delivered = spec.measure("charge"), spec.measure("delivered")
    money = "spend"
    data = {
        "facts": {"spend": spec.fact(conn, SPEND_SQL), "templates": spec.fact(conn, TEMPLATES_SQL, "month"),
                  "campaigns": spec.fact(conn, CAMPAIGNS_SQL, "month"),
                  "reconciliation": spec.fact(conn, RECONCILIATION_SQL, "month"),
                  "notes": spec.fact(conn, NOTES_SQL, "month")},
        "empty": {"spend": EMPTY, "templates": EMPTY, "campaigns": EMPTY,
                  "reconciliation": "No reconciliation yet: it needs messages (`waba run`) and, to compare, Meta's "
                                    "analytics (`waba fetch`) or invoices in landing/invoices/."},
        "kpis": {"main": [
            spec.kpi("Charge", money, charge, "money", split="currency", better="down"),
            spec.kpi("Messages sent", money, spec.measure("messages"), "int"),
            spec.kpi("Billable units (charged messages and conversations)", money, spec.measure("billable_units"), "int"),
            spec.kpi("Cost per delivered message", money, spec.measure("charge", "delivered"), "money4", split="currency",
                     better="down", none="nothing delivered"),
            spec.kpi("Unpriced units (no rate on the card)", money, spec.measure("unpriced_units"), "int", better="down"),
            spec.kpi("Charge on unverified rates", money, spec.measure("unverified_charge"), "money", split="currency",
                     better="down", none="none"),
        ]},
        "notes": {"pricing": {"fact": "notes"}},
        "charts": {
            "by_month": spec.time_chart(money, [spec.series("", charge, "category")], "charge", "money", split="currency"),
            "by_market": spec.bars_chart(money, "market", charge, "charge", "money", split="currency"),
            "by_category": spec.bars_chart(money, "category", charge, "charge", "money", split="currency"),
            "by_pricing_type": spec.time_chart(money, [spec.series("", spec.measure("messages"), "pricing_type")],
                                               "messages", "int"),
            "unit_costs": spec.time_chart(money, [
                spec.series("", spec.measure("charge", "billable_units"), "pricing_model", UNIT_LABELS),
                spec.series("per delivered message (all)", spec.measure("charge", "delivered"))],
                "charge per unit", "money4", kind="line", split="currency"),
        },
        "tables": {
            "reconciliation": spec.table("reconciliation", [
                spec.dim("Month", "day", "month"), spec.dim("Currency", "currency", hidden=True),
                spec.value("Ledger units", spec.measure("ledger_units"), "int"),
                spec.value("Ledger charge", spec.measure("ledger_charge"), "money"),
                spec.value("Meta cost", spec.measure("meta_cost"), "money"),
                spec.value("Invoice", spec.measure("invoice_amount"), "money"),
                spec.value("Meta − ledger", spec.measure("diff_vs_meta"), "money"),
                spec.value("Invoice − ledger", spec.measure("diff_vs_invoice"), "money"),
                spec.value("Explained", spec.measure("explained_amount"), "money"),
                spec.value("Unexplained", spec.measure("unexplained"), "money"),
                spec.value("Reasons", spec.measure("reasons", agg="list"), "list")], sort=(0, "desc"), page=12),
            "by_phone_number": spec.table(money, [
                spec.dim("Phone number", "phone_number_id", labels="number"), spec.dim("WABA", "waba_id", labels="waba"),
                spec.dim("Currency", "currency", hidden=True),
                spec.value("Messages", spec.measure("messages"), "int"),
                spec.value("Billable units", spec.measure("billable_units"), "int"),
                spec.value("Charge", charge, "money"),
                spec.value("Per delivered", spec.measure("charge", "delivered"), "money4")], sort=(5, "desc")),
            "by_template": spec.table("templates", [
                spec.dim("Template", "template_name"), spec.dim("Language", "template_language"),
                spec.dim("Category", "category"), spec.dim("Currency", "currency", hidden=True),
                spec.value("Messages", spec.measure("messages"), "int"), spec.value("Delivered", delivered, "int"),
                spec.value("Charge", charge, "money"),
                spec.value("Per delivered", spec.measure("charge", "delivered"), "money4")], sort=(6, "desc")),
            "by_campaign": spec.table("campaigns", [
                spec.dim("Campaign", "campaign"), spec.dim("Category", "category"),
                spec.dim("Currency", "currency", hidden=True),
                spec.value("Messages", spec.measure("messages"), "int"), spec.value("Delivered", delivered, "int"),
                spec.value("Failed", spec.measure("failed"), "int"), spec.value("Charge", charge, "money"),
                spec.value("Per delivered", spec.measure("charge", "delivered"), "money4")], sort=(6, "desc")),
        },
    }
    return {"data": data}
